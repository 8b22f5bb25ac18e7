-- reindex_fill.lua: the fill phase of a reindex job, one batch: add the entries of the
-- indexes it rebuilds for objects that still hold the values the caller read, then move the
-- checkpoint. An object changed or deleted since it was read is skipped: its writer
-- maintained the building indexes (lib.lua, note_indexes), and its old values are never
-- written back. The hidden fields of the indexes the job removes go from every object.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the job's generation
-- ARGV[2]          the job's token
-- ARGV[3]          the checkpoint the batch starts after
-- ARGV[4]          the checkpoint after the batch (its last pk)
-- ARGV[5]          nu: how many of the equality-indexed fields are unique (they come first)
-- ARGV[6..]        the schema (lib.lua, read_schema)
-- then, per object, 1 + 2 * (ni + ns) arguments: pk; the stored bytes read of its ni
--                  equality-indexed fields and ns sorted fields ('' for an absent field);
--                  its ni index members; its ns sort keys
-- Returns {'ok', indexed, skipped}; {'!unique', field, member, pks...} (the checkpoint
-- stays: the job cannot pass two objects sharing a unique value); {'!moved', phase, at}
-- when the checkpoint is not ARGV[3] (another process runs the same job); or {'!gen'} /
-- {'!job'} as reindex_clear.
local job, refused = reindex_job(ARGV[1], ARGV[2])
if not job then return refused end
local gp, key = job.gp, job.key
if job.phase ~= 'fill' or job.at ~= ARGV[3] then return {'!moved', job.phase, job.at} end
local nu = tonumber(ARGV[5])
local schema, first = read_schema(6)
local only = {}
for name in string.gmatch(string.match(job.plan, '^(.*)|'), '[^,]+') do only[name] = true end
schema.only = only
local ni, ns = #schema.eq, #schema.sorted
-- the hidden fields of the removed indexes (#f of an equality index, ~f of a sorted one) that
-- the schema does not keep: dropped from every object the job visits
local kept, obsolete = {}, {}
for _, name in ipairs(schema.names) do kept[name] = true end
for name in string.gmatch(string.match(job.plan, '|(.*)$'), '[^,]+') do
  local kind, field = string.match(name, '^([es]):(.+)$')
  local hidden = kind and ((kind == 'e' and '#' or '~') .. field)
  if hidden and not kept[hidden] then obsolete[#obsolete + 1] = hidden end
end
local sources = {}
for i, f in ipairs(schema.eq) do sources[i] = f end
for j, f in ipairs(schema.sorted) do sources[ni + j] = f end
local stride = 1 + 2 * (ni + ns)

refuse_when_full()
local batch, indexed, skipped = changes(), 0, 0
for at = first, #ARGV, stride do
  local pk = ARGV[at]
  local okey = gp .. 'o:' .. pk
  local same = redis.call('ZSCORE', gp .. 'all', pk) ~= false
  if same and #sources > 0 then
    local stored = redis.call('HMGET', okey, unpack(sources))
    for s = 1, #sources do
      if (stored[s] or '') ~= ARGV[at + s] then
        same = false
        break
      end
    end
  end
  if #obsolete > 0 then redis.call('HDEL', okey, unpack(obsolete)) end -- (no writer of this schema reads them)
  if same then
    -- the entries its hidden fields name now leave: the clear phase emptied the indexes, but
    -- a writer of another encoding (an older release) may have added entries since, which the
    -- hidden fields written below would no longer name, and no later save or delete would
    -- remove (an emptied model would then find a building index ready, stale entries and all)
    local old = read_state(gp, schema, pk)
    -- the hidden fields first (#f: the member, when it differs from the stored bytes; ~s:
    -- the sort key), so that the entries come from the object's state as writers read it
    local set, del = {}, {}
    for i, f in ipairs(schema.eq) do
      if only['e:' .. f] then
        local member = ARGV[at + ni + ns + i]
        if member == ARGV[at + i] then
          del[#del + 1] = '#' .. f
        else
          set[#set + 1] = '#' .. f
          set[#set + 1] = member
        end
      end
    end
    for j, f in ipairs(schema.sorted) do
      if only['s:' .. f] then
        set[#set + 1] = '~' .. f
        set[#set + 1] = ARGV[at + 2 * ni + ns + j]
      end
    end
    if #set > 0 then redis.call('HSET', okey, unpack(set)) end
    if #del > 0 then redis.call('HDEL', okey, unpack(del)) end
    change(batch, gp, schema, pk, old, read_state(gp, schema, pk))
    indexed = indexed + 1
  else
    skipped = skipped + 1
  end
end
apply_changes(gp, batch)
for i = 1, nu do
  local f = schema.eq[i]
  if only['e:' .. f] then
    local prefix = gp .. 'i:' .. f .. ':'
    for set_key in pairs(batch.add) do
      if string.sub(set_key, 1, #prefix) == prefix and redis.call('SCARD', set_key) > 1 then
        local member = string.sub(set_key, #prefix + 1)
        if member ~= NIL_MEMBER then
          local out = {'!unique', f, member}
          for _, pk in ipairs(redis.call('SRANDMEMBER', set_key, 5)) do out[#out + 1] = pk end
          return out
        end
      end
    end
  end
end
redis.call('HSET', key, ':at', ARGV[4])
return {'ok', indexed, skipped}
