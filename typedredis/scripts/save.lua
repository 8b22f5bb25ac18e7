-- save.lua: insert or replace objects, moving their index entries from the stored old
-- values to the new ones, all in one atomic step; refuses (writing nothing) a batch that
-- would leave two objects with one value of a unique field, or, when inserting, a batch
-- that names a primary key which is already stored (or twice).
--
-- HEAD             the model's schema, compiled into the script (typedredis/scripts, script;
--                  typedredis/fields.py, ModelSpec.save_schema):
--   HEAD[1]          nu: how many of the equality-indexed fields are unique (they come first)
--   HEAD[2]          nf: number of stored fields
--   HEAD[3..2+nf]    the field names, the ni equality-indexed ones first
--   then             the schema (see lib.lua, read_schema): its ni equality fields, ns sorted
--                    fields and compound indexes
-- KEYS[1]          {K}:meta
-- ARGV[1]          target generation: '' for the current one, or a generation that `reset`
--                  is staging (then every object is new in it, and inserted)
-- ARGV[2]          mode: 'i' inserts (refuses stored pks), '' inserts or replaces, 'm'
--                  migrates: replaces stored objects only while they hold exactly what the
--                  caller read (`reindex --migrate`), and skips the others; 'p' as '', with
--                  partial writes (see below)
-- ARGV[3..], per object, 1 + nf + ni + ns arguments:
--                  pk ('' allocates a new one), nf msgpack values,
--                  ni index members ('' when the member equals the stored value), ns sort keys;
--                  in mode 'm' then the nf stored bytes read ('' for an absent field) and the
--                  number of fields the hash had; in mode 'p' then how to write it: '' whole;
--                  'c' or 'u' followed by one '0'/'1' per field: only the fields marked '1'
--                  (and their index entries, moved from the stored state), while the object
--                  is stored and every index of the schema is ready; else 'c' writes it whole
--                  and 'u' refuses the call
-- Returns the objects' primary keys, in order (in mode 'm', of the objects written); or,
-- writing nothing:
--                  {'!unique', field, member} when a unique value would be shared;
--                  {'!exists', pk} when inserting an object whose pk is stored or repeated;
--                  {'!pks'} when new pks would go beyond 2^53 - 1;
--                  {'!missing', pk} when a 'u' object is not stored;
--                  {'!building', index, record} when a 'u' object meets an index that is
--                  not ready (its record: lib.lua, note_indexes).
local gen = ARGV[1]
local staging = gen ~= ''
if staging then
  if not redis.call('ZSCORE', BASE .. 'staging', gen) then
    return redis.error_reply('typedredis: generation ' .. gen .. ' is no longer being staged')
  end
else
  gen = current_gen()
end
local insert = staging or ARGV[2] == 'i'
local migrate = ARGV[2] == 'm'
local partial = ARGV[2] == 'p'
local gp = gen_prefix(gen)
local nu, nf = tonumber(HEAD[1]), tonumber(HEAD[2])
local fields = {unpack(HEAD, 3, 2 + nf)}
local schema = read_schema(3 + nf, HEAD)
local first = 3
local ni, ns = #schema.eq, #schema.sorted
local stride = 1 + nf + ni + ns
if migrate then stride = stride + nf + 1 end
if partial then stride = stride + 1 end

-- mode 'm': is the object still exactly as the caller read it (stored, same fields, same bytes)?
local function as_read(at)
  local okey = gp .. 'o:' .. ARGV[at]
  if redis.call('HLEN', okey) ~= tonumber(ARGV[at + stride - 1]) then return false end
  local stored = nf > 0 and redis.call('HMGET', okey, unpack(fields)) or {}
  for i = 1, nf do
    if (stored[i] or '') ~= ARGV[at + nf + ni + ns + i] then return false end
  end
  return true
end

-- pass 1: read what is stored, and check unique fields against the batch's final state
local objects, named, explicit = {}, {}, {}
for at = first, #ARGV, stride do
  local o = {at = at, pk = ARGV[at], stored = false, state = false, bits = false, stored_pk = false}
  if migrate and not as_read(at) then
    o = nil -- a writer changed it since it was read: its writer stored it in its own form
  elseif o.pk ~= '' then
    if insert and named[o.pk] then return {'!exists', o.pk} end
    named[o.pk] = true
    explicit[#explicit + 1] = o
  end
  if o then objects[#objects + 1] = o end
end
-- which explicit pks are stored: one ZMSCORE of the all-set per 1 000
for i = 1, #explicit, CHUNK do
  local part = {}
  for j = i, math.min(i + CHUNK - 1, #explicit) do part[#part + 1] = explicit[j].pk end
  local scores = redis.call('ZMSCORE', gp .. 'all', unpack(part))
  for j = 1, #part do
    local o = explicit[i + j - 1]
    if scores[j] then
      if insert then return {'!exists', o.pk} end
      o.stored = true
    end
  end
end
for _, o in ipairs(explicit) do
  if o.stored then o.state = read_state(gp, schema, o.pk) end
end
-- mode 'p': which objects are written in part (o.bits: '0'/'1' per field)
if partial then
  local ready, index, record = nil, nil, nil
  for _, o in ipairs(objects) do
    local how = ARGV[o.at + stride - 1]
    if how ~= '' then
      if ready == nil then ready, index, record = all_ready(gp, schema) end
      if not o.stored then
        if string.sub(how, 1, 1) == 'u' then return {'!missing', o.pk} end
      elseif not ready then
        if string.sub(how, 1, 1) == 'u' then return {'!building', index, record} end
      else
        o.bits = string.sub(how, 2)
      end
    end
  end
end
-- does object o write field i (an object written in part writes only its marked fields)?
local function writes(o, i)
  return not o.bits or string.byte(o.bits, i) == 49 -- '1'
end
local function member_of(o, i)
  local member = ARGV[o.at + nf + i]
  if member == '' then member = ARGV[o.at + i] end
  return member
end
if nu > 0 then
  for i = 1, nu do
    local in_batch = {} -- the objects of the call that write field i: their stored value goes
    for _, o in ipairs(objects) do
      if o.pk ~= '' and writes(o, i) then in_batch[o.pk] = true end
    end
    local claims = {}
    for n, o in ipairs(objects) do
      local member = member_of(o, i)
      if member ~= NIL_MEMBER and writes(o, i) then -- None is never a duplicate (as SQL's NULL)
        local key = gp .. 'i:' .. fields[i] .. ':' .. member
        local who = o.pk ~= '' and o.pk or ('new ' .. n)
        local owners = claims[key]
        if not owners then
          owners = {}
          for _, pk in ipairs(redis.call('SMEMBERS', key)) do
            if not in_batch[pk] then owners[pk] = true end
          end
          claims[key] = owners
        end
        owners[who] = true
        if next(owners, next(owners)) then
          return {'!unique', fields[i], member}
        end
      end
    end
  end
end

-- explicit primary keys first, so that newly allocated ones never collide with them
-- (pks travel as decimal strings: a Lua number argument would be formatted with %.14g);
-- a stored object's pk is left out: the counter passed it when it was stored (and a counter
-- lost since, e.g. evicted, is caught up below before the next pk is allocated)
local top, fresh = nil, 0
for _, o in ipairs(objects) do
  if o.pk == '' then
    fresh = fresh + 1
  elseif not o.stored and (top == nil or tonumber(o.pk) > tonumber(top)) then
    top = o.pk
  end
end
local counter = 0
if fresh > 0 or top ~= nil then counter = tonumber(redis.call('HGET', META, 'pk') or '0') end
if fresh > 0 then -- never behind a stored pk (the counter could have been evicted, or reset)
  local last = redis.call('ZRANGE', gp .. 'all', -1, -1)[1]
  if last and tonumber(last) > math.max(counter, tonumber(top or '0')) then top = last end
end
if fresh > 0 and math.max(counter, tonumber(top or '0')) + fresh > MAX_PK then
  return {'!pks'} -- the counter would leave the range where pks stay exact
end
stamp_written() -- the first write: a full memory refuses the whole call (lib.lua)
if top ~= nil and tonumber(top) > counter then
  redis.call('HSET', META, 'pk', top)
end
local nextpk = 0
if fresh > 0 then
  nextpk = redis.call('HINCRBY', META, 'pk', fresh) - fresh
end
if staging then
  redis.call('ZADD', BASE .. 'staging', 'XX', now_ms(), gen)
end

-- pass 2: write
local sorted_at = {} -- the position among the fields of each sorted field
for i = 1, nf do
  for j = 1, ns do
    if schema.sorted[j] == fields[i] then sorted_at[j] = i end
  end
end
note_indexes(gp, schema)
local pks, first_old, last_new, last_at, last_obj = {}, {}, {}, {}, {}
for _, o in ipairs(objects) do
  local at, pk = o.at, o.pk
  if pk == '' then
    nextpk = nextpk + 1
    pk = int_string(nextpk)
  elseif last_at[pk] == nil then -- its stored entries (none for a new object), once per call
    first_old[pk] = o.state or false
  end
  local eq = {unpack(ARGV, at + nf + 1, at + nf + ni)} -- the members sent ('': the value's)
  local sorted = {unpack(ARGV, at + nf + ni + 1, at + nf + ni + ns)} -- the sort keys sent
  if o.bits then -- written in part: the fields it leaves keep their stored entries
    for i = 1, ni do eq[i] = writes(o, i) and member_of(o, i) or o.state.eq[i] end
    for j = 1, ns do
      if not writes(o, sorted_at[j]) then sorted[j] = o.state.sorted[j] end
    end
  else
    for i = 1, ni do
      if eq[i] == '' then eq[i] = ARGV[at + i] end
    end
  end
  local state = {eq = eq, sorted = sorted}
  last_new[pk] = state
  if last_at[pk] == nil then pks[#pks + 1] = pk end
  last_at[pk] = at -- the same pk twice in one call: the last copy is what is stored
  last_obj[pk] = o
  o.stored_pk = pk
end
local batch = changes()
for _, pk in ipairs(pks) do change(batch, gp, schema, pk, first_old[pk] or nil, last_new[pk]) end
apply_changes(gp, batch)
local hset, hdel = {}, {} -- (reused: HSET's arguments for one object at a time)
for _, pk in ipairs(pks) do
  local at, o = last_at[pk], last_obj[pk]
  local okey = gp .. 'o:' .. pk
  local n, bits = 1, o.bits
  hset[1] = okey
  for i = 1, nf do
    if not bits or writes(o, i) then
      hset[n + 1] = fields[i]
      hset[n + 2] = ARGV[at + i]
      n = n + 2
    end
  end
  local nd = 1
  for i = 1, ni do
    local member = ARGV[at + nf + i]
    if bits and not writes(o, i) then -- (left as stored)
    elseif member ~= '' then -- the member differs from the stored value
      hset[n + 1] = '#' .. fields[i]
      hset[n + 2] = member
      n = n + 2
    elseif bits and o.state.marked[i] then -- the stored member differed: it goes
      nd = nd + 1
      hdel[nd] = '#' .. fields[i]
    end
  end
  for j = 1, ns do
    if not bits or writes(o, sorted_at[j]) then
      hset[n + 1] = '~' .. schema.sorted[j]
      hset[n + 2] = ARGV[at + nf + ni + j]
      n = n + 2
    end
  end
  if bits then
    if nd > 1 then
      hdel[1] = okey
      redis.call('HDEL', unpack(hdel, 1, nd))
    end
  elseif first_old[pk] then
    redis.call('DEL', okey) -- a stored object written whole: drop what it no longer has
  end
  if n > 1 then redis.call('HSET', unpack(hset, 1, n)) end
end
local scored = {} -- the pks new to the all-set (a stored object's pk is in it: ZMSCORE said so)
for _, pk in ipairs(pks) do
  if not first_old[pk] then
    scored[#scored + 1] = pk
    scored[#scored + 1] = pk
  end
end
if #scored > 0 then call_chunked('ZADD', gp .. 'all', scored) end
local out = {} -- every object's pk, in the order given (a pk listed twice appears twice)
for i, o in ipairs(objects) do out[i] = tonumber(o.stored_pk) end
return out
