-- lib.lua: helpers prepended to every other script when it is loaded (one source, one SHA).
--
-- Every script receives KEYS[1] = "{K}:meta", the model's metadata hash. All other key names
-- are built from it (see typedredis/keys.py for the layout) and share its hash tag {K}, so
-- they live in KEYS[1]'s cluster slot.
local META = KEYS[1]
local BASE = string.sub(META, 1, -5) -- "{K}:"
local HAS_SINTERCARD = (redis.REDIS_VERSION_NUM or 0) >= 0x070000
local CHUNK = 1000 -- stay far below Lua's limit on unpack() arguments
local NIL_MEMBER = '\192' -- the index member of None (msgpack nil): exempt from uniqueness
local MAX_PK = 9007199254740991 -- 2^53 - 1: the largest pk Lua's numbers hold exactly
local AFTER_PK = string.rep('\255', 8) -- above every pk suffix of a sort key (sortkeys.py)

-- Redis Cluster: never start while this model's slot is being migrated away from this node.
-- There a command on a key that is not here (moved already, or never created) fails the
-- script at that command, after the writes before it (Lua undoes nothing). {K}:probe never
-- exists, so in a migrating slot this read fails first, before anything is read or written,
-- and the call answers TRYAGAIN, which typedredis re-sends until the slot has moved (then
-- MOVED sends it to the new owner, where every key is). Elsewhere it is one EXISTS of nothing.
local probe = redis.pcall('EXISTS', BASE .. 'probe')
if type(probe) == 'table' and probe.err then
  return redis.error_reply('TRYAGAIN typedredis: the slot of ' .. BASE .. ' is migrating')
end

-- A whole number as its exact decimal string (tostring and .. use %.14g: 1e+14).
local function int_string(n)
  return string.format('%.0f', n)
end

local function current_gen()
  return redis.call('HGET', META, 'gen') or '0'
end

local function gen_prefix(gen)
  return BASE .. gen .. ':'
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Make Redis refuse the script now if memory is full (maxmemory, noeviction): it checks a
-- script's memory at its first write of a command that can grow memory, and not after, so
-- a script whose first write only removes (SREM) could then grow memory past the limit. This
-- write changes nothing (the counter exists once anything was saved) but can grow memory.
local function refuse_when_full()
  redis.call('HSETNX', META, 'pk', '0')
end

-- The model's write stamp (field n of {K}:meta) changes in every call that changes objects,
-- so that while it stays the same, no object changed: query.lua then serves a result it
-- listed (answered in chunks) without testing the condition again. A save or an update
-- bumps it as its first write (HINCRBY can grow memory: a full memory refuses the whole call,
-- as with refuse_when_full), a delete right after a first write that removed an object (a
-- full memory never refuses a delete). It only grows while {K}:meta lives.
local function stamp_written()
  redis.call('HINCRBY', META, 'n', 1)
end

-- Run `cmd key <items...>` in chunks.
local function call_chunked(cmd, key, items)
  for i = 1, #items, CHUNK do
    redis.call(cmd, key, unpack(items, i, math.min(i + CHUNK - 1, #items)))
  end
end

-- UNLINK keys in chunks.
local function unlink_all(keys)
  for i = 1, #keys, CHUNK do
    redis.call('UNLINK', unpack(keys, i, math.min(i + CHUNK - 1, #keys)))
  end
end

-- Scratch keys ({K}:tmp:<name>) live only inside one call: `scratch` deletes whatever an
-- earlier call could have left under the name before handing it out, and `guarded` deletes
-- every scratch key on the way out, error or not.
local scratch_keys = {}
local function scratch(name)
  local key = BASE .. 'tmp:' .. name
  redis.call('DEL', key)
  scratch_keys[#scratch_keys + 1] = key
  return key
end

local function drop_scratch()
  for i = 1, #scratch_keys, CHUNK do
    redis.pcall('UNLINK', unpack(scratch_keys, i, math.min(i + CHUNK - 1, #scratch_keys)))
  end
  scratch_keys = {}
end

-- An error's text, without the "@user_script: 1: " and "-" that Redis 6.2 puts before it.
local function error_text(err)
  local text = type(err) == 'table' and (err.err or 'error') or tostring(err)
  local before
  repeat
    before = text
    text = string.gsub(text, '^@user_script:%s*%d+:%s*', '')
  until text == before
  return (string.gsub(text, '^%-', ''))
end

-- Run `main` (the script's body); its result, or its error as an error reply, either way
-- after its scratch keys are gone.
local function guarded(main)
  local ok, result = pcall(main)
  drop_scratch()
  if ok then return result end
  return redis.error_reply(error_text(result))
end

-- Sorted indexes hold `sort key .. pk8`: the 8-byte big-endian pk breaks ties (see sortkeys.py).
local function pk8(pk)
  local n = tonumber(pk)
  return struct.pack('>I4I4', math.floor(n / 4294967296), n % 4294967296)
end

-- (A pk is below 2^53, so hi below 2^21: '%d' formats it exactly, in half the time of
-- int_string's '%.0f'; a larger hi, from bytes typedredis did not write, takes int_string.)
local function pk_of(member)
  local hi, lo = struct.unpack('>I4I4', member, #member - 7)
  if hi < 2097152 then return string.format('%d', hi * 4294967296 + lo) end
  return int_string(hi * 4294967296 + lo)
end

-- Whether byte string a sorts before b (Lua's own < follows the server's locale).
local function bytes_less(a, b)
  local n = math.min(#a, #b)
  local i = 1
  while i <= n do
    local j = math.min(i + 7, n)
    if string.sub(a, i, j) ~= string.sub(b, i, j) then
      for k = i, j do
        local x, y = string.byte(a, k), string.byte(b, k)
        if x ~= y then return x < y end
      end
    end
    i = j + 1
  end
  return #a < #b
end

-- Whether a sorted-index member lies within ZRANGEBYLEX bounds low..high ('-', '+', '[x', '(x').
local function within(member, low, high)
  if low ~= '-' then
    local bound = string.sub(low, 2)
    if string.sub(low, 1, 1) == '[' then
      if bytes_less(member, bound) then return false end
    elseif not bytes_less(bound, member) then
      return false
    end
  end
  if high ~= '+' then
    local bound = string.sub(high, 2)
    if string.sub(high, 1, 1) == '[' then
      if bytes_less(bound, member) then return false end
    elseif not bytes_less(member, bound) then
      return false
    end
  end
  return true
end

-- Rows of objects as one flat array: {pk, value1, ..., valuen, pk, ...} for the objects that
-- exist (a pk whose hash is gone, e.g. evicted, is left out); an absent field is false (a nil
-- reply). Each value is its own bulk string, so corrupt bytes cannot shift fields. (A flat
-- array costs the server about 0.6 us per row less than packing the rows with cmsgpack.)
local function pack_rows(gp, pks, fields)
  local out, n = {}, 0
  local nf = #fields
  for _, pk in ipairs(pks) do
    local values = redis.call('HMGET', gp .. 'o:' .. pk, unpack(fields))
    local found = values[1]
    if not found then
      for i = 2, nf do
        if values[i] then found = true break end
      end
    end
    if found or (nf == 0 or redis.call('EXISTS', gp .. 'o:' .. pk) == 1) then
      n = n + 1
      out[n] = tonumber(pk)
      for i = 1, nf do
        n = n + 1
        out[n] = values[i] or false
      end
    end
  end
  return out
end

-- -- index maintenance: the one place that knows which index entries an object has ---------
--
-- A schema, as scripts receive it (typedredis/fields.py, ModelSpec.schema):
--   ni, then ni equality-indexed field names; ns, then ns sorted field names;
--   nc, then per compound index: name, ne, the positions of its ne equality fields among the
--   equality-indexed ones, and the position of its sorted field among the sorted ones (0: none);
--   nx, then per single-field index: its record name (e:<field>, s:<field>) and the encoding
--   of its entries (see note_indexes); then the signature of all its indexes
-- Read from `args` (ARGV when not given; save.lua: its compiled HEAD) from position `at`.
-- Returns the schema and the position of the first argument after it.
local function read_schema(at, args)
  args = args or ARGV
  -- (tables built by constructors of their final size: a table grown one entry at a time is
  -- reallocated at every power of two, and a one-object save builds about thirty)
  local ni = tonumber(args[at])
  local eq = {unpack(args, at + 1, at + ni)}
  at = at + 1 + ni
  local ns = tonumber(args[at])
  local sorted = {unpack(args, at + 1, at + ns)}
  at = at + 1 + ns
  local nc = tonumber(args[at])
  at = at + 1
  local compounds = {}
  for c = 1, nc do
    local ne = tonumber(args[at + 1])
    local positions = {}
    for e = 1, ne do positions[e] = tonumber(args[at + 1 + e]) end
    compounds[c] = {name = args[at], eq = positions, sorted = tonumber(args[at + 2 + ne])}
    at = at + 3 + ne
  end
  local indexes, encoding = {}, {}
  local nx = tonumber(args[at])
  for x = 1, nx do
    local name = args[at + 2 * x - 1]
    indexes[x] = name
    encoding[name] = args[at + 2 * x]
  end
  at = at + 1 + 2 * nx
  -- the hash fields holding an object's index state: f and #f (the member, when it differs
  -- from the stored value) per equality field, ~s (the sort key) per sorted field
  local names = {unpack(args, 1, 2 * ni + ns)} -- (any values of the right number, replaced)
  for i = 1, ni do
    names[2 * i - 1] = eq[i]
    names[2 * i] = '#' .. eq[i]
  end
  for j = 1, ns do names[2 * ni + j] = '~' .. sorted[j] end
  local schema = {
    eq = eq, sorted = sorted, compounds = compounds, names = names, indexes = indexes,
    encoding = encoding, signature = args[at], prefix = false, all_ready = false, only = false,
  }
  return schema, at + 1
end

-- An object's index state from the values of schema.names: its equality members and sort
-- keys (false where the hash lacks them); `marked[i]`: whether the hash holds #f for
-- equality field i (a member that differs from the stored value).
local function state_of(schema, values)
  local ni, ns = #schema.eq, #schema.sorted
  local eq, marked = {unpack(values, 1, ni)}, {unpack(values, 1, ni)} -- (sized; replaced below)
  for i = 1, ni do
    eq[i] = values[2 * i] or values[2 * i - 1] or false
    marked[i] = values[2 * i] and true or false
  end
  local sorted = {unpack(values, 2 * ni + 1, 2 * ni + ns)}
  for j = 1, ns do sorted[j] = sorted[j] or false end
  return {eq = eq, sorted = sorted, marked = marked}
end

local function read_state(gp, schema, pk)
  if #schema.names == 0 then return {eq = {}, sorted = {}, marked = {}} end
  return state_of(schema, redis.call('HMGET', gp .. 'o:' .. pk, unpack(schema.names)))
end

-- Append `member` to the list of `key` in `lists` (sorted sets: as "0 member" pairs, ready
-- for ZADD).
local function note(lists, key, member, scored)
  local list = lists[key]
  if not list then
    list = {}
    lists[key] = list
  end
  if scored then list[#list + 1] = 0 end
  list[#list + 1] = member
end

-- Index changes of a call, grouped by key, so that a key gets one SREM/ZREM and one
-- SADD/ZADD per call whatever the number of objects: `change` records an object's move from
-- its `old` index state to its `new` one (either may be nil); `apply_changes` writes them
-- all. Entries that differ leave; every new entry is added, changed or not (idempotent, and
-- it indexes values stored before their index existed), unless note_indexes found every
-- index of the schema ready (schema.all_ready): then only the entries that change are added.
-- (Visitors of each_entry, made once per call rather than per object: `batch.insert` adds
-- each entry it visits, `batch.drop` removes it.)
local function changes()
  local batch = {add = {}, addz = {}, remove = {}, removez = {}}
  local add, addz, remove, removez = batch.add, batch.addz, batch.remove, batch.removez
  batch.insert = function(key, member, zset) note(zset and addz or add, key, member, zset) end
  batch.drop = function(key, member, zset) note(zset and removez or remove, key, member, false) end
  return batch
end

-- Each index entry of object `pk` in `state`: key, member, and whether the key is a sorted
-- set; `visit(key, member, zset)` is called for each. With `other` (another state of the
-- object), only the entries built from a part (equality member, sort key) that differs in
-- `other`: the others are the same entries in both states.
local function each_entry(gp, schema, state, pk, visit, other)
  local prefix = schema.prefix -- key prefixes, built once per call (gp is one generation's)
  if not prefix then
    prefix = {eq = {unpack(schema.eq)}, sorted = {unpack(schema.sorted)}, compounds = {}} -- (sized)
    for i, f in ipairs(schema.eq) do prefix.eq[i] = gp .. 'i:' .. f .. ':' end
    for j, f in ipairs(schema.sorted) do prefix.sorted[j] = gp .. 's:' .. f end
    for c, compound in ipairs(schema.compounds) do prefix.compounds[c] = gp .. 'c:' .. compound.name .. ':' end
    schema.prefix = prefix
  end
  local suffix -- the 8-byte pk that ends a sorted set member
  local eq, sorted = state.eq, state.sorted
  local only = schema.only -- (reindex: the names of the indexes it rebuilds; nil: every index)
  for i = 1, #schema.eq do
    if eq[i] and (not other or eq[i] ~= other.eq[i]) and (not only or only['e:' .. schema.eq[i]]) then
      visit(prefix.eq[i] .. eq[i], pk, false)
    end
  end
  for j = 1, #schema.sorted do
    if sorted[j] and (not other or sorted[j] ~= other.sorted[j]) and (not only or only['s:' .. schema.sorted[j]]) then
      suffix = suffix or pk8(pk)
      visit(prefix.sorted[j], sorted[j] .. suffix, true)
    end
  end
  for c, compound in ipairs(schema.compounds) do
    local positions, key = compound.eq, nil
    local same = other and (compound.sorted == 0 or sorted[compound.sorted] == other.sorted[compound.sorted])
    if same then
      for _, position in ipairs(positions) do
        if eq[position] ~= other.eq[position] then same = false break end
      end
    end
    if same then -- (the same entry in both states)
    elseif #positions == 1 then
      if eq[positions[1]] then key = prefix.compounds[c] .. eq[positions[1]] end
    else -- members are msgpack documents: their concatenation is unambiguous
      local members = {}
      for e, position in ipairs(positions) do
        if not eq[position] then members = nil break end
        members[e] = eq[position]
      end
      if members then key = prefix.compounds[c] .. table.concat(members) end
    end
    if key and (not only or only[compound.name]) then
      if compound.sorted == 0 then
        visit(key, pk, false)
      elseif sorted[compound.sorted] then
        suffix = suffix or pk8(pk)
        visit(key, sorted[compound.sorted] .. suffix, true)
      end
    end
  end
end

local function change(batch, gp, schema, pk, old, new)
  if not old then
    if new then each_entry(gp, schema, new, pk, batch.insert) end
    return
  end
  local remove = batch.drop
  if not new then
    each_entry(gp, schema, old, pk, remove)
  elseif schema.all_ready then
    -- every index is ready, so the old state's entries are all there: only the entries built
    -- from a part that changed move (each_entry with the other state skips the others)
    each_entry(gp, schema, old, pk, remove, new)
    each_entry(gp, schema, new, pk, batch.insert, old)
  else
    local kept = {}
    each_entry(gp, schema, new, pk, function(key, member, zset)
      kept[key] = member
      batch.insert(key, member, zset)
    end)
    each_entry(gp, schema, old, pk, function(key, member, zset)
      if kept[key] ~= member then remove(key, member, zset) end
    end)
  end
end

-- Removals first (an emptied index leaves the generation's registry, a sorted set of key
-- names), then additions (their keys join the registry).
local function remove_entries(gp, lists, cmd)
  for key, list in pairs(lists) do
    call_chunked(cmd, key, list)
    if redis.call('EXISTS', key) == 0 then redis.call('ZREM', gp .. 'ix', key) end
  end
end

local function apply_changes(gp, batch)
  remove_entries(gp, batch.remove, 'SREM')
  remove_entries(gp, batch.removez, 'ZREM')
  local registry = {}
  for key, list in pairs(batch.add) do
    call_chunked('SADD', key, list)
    registry[#registry + 1] = 0
    registry[#registry + 1] = key
  end
  for key, list in pairs(batch.addz) do
    call_chunked('ZADD', key, list)
    registry[#registry + 1] = 0
    registry[#registry + 1] = key
  end
  if #registry > 0 then call_chunked('ZADD', gp .. 'ix', registry) end
end

-- -- index records: which indexes of a generation are complete ----------------------------
--
-- {K}:<g>:schema records, per generation, what its index sets can be trusted for:
--   ':v'              '1' once a writer of this version noted the generation
--   'e:<field>'       an equality index, 's:<field>' a sorted one: '<state>:<encoding>'
--   '<name>'          a compound index: '<state>'
--   ':w'              the signature of a schema all of whose indexes are ready (absent when
--                     the last writer to change the records had one that is not)
-- where state is ready (it holds every object of the generation, and every writer since
-- maintained it), building (objects stored before it was declared lack it) or dropped (a
-- writer that does not define it changed objects, so it may hold stale entries). Queries use
-- only ready indexes whose encoding is the one their code writes (query.lua); when ':w' is
-- their schema's signature, one HGET tells them so.

local function index_records(gp)
  local flat, records = redis.call('HGETALL', gp .. 'schema'), {}
  for i = 1, #flat, 2 do records[flat[i]] = flat[i + 1] end
  return records
end

-- Before a writer changes any object of generation gp: record the indexes it maintains (its
-- schema), and mark dropped those recorded that it does not. An index recorded while the
-- generation is empty is ready; declared later, building until rebuilt (a reset builds every
-- index in a fresh generation). A generation that objects were stored in before there were
-- records (an older typedredis) is taken as its code left it: its indexes are ready.
local function note_indexes(gp, schema)
  if schema.all_ready then return end -- all_ready() found every index ready in this call
  if redis.call('HGET', gp .. 'schema', ':w') == schema.signature then -- all ready
    schema.all_ready = true
    return
  end
  local records = index_records(gp)
  local empty = redis.call('ZCARD', gp .. 'all') == 0
  local fresh = (empty or records[':v'] == nil) and 'ready' or 'building'
  local set, known = {}, {}
  local function record(name, value) -- (records then holds what the hash will hold)
    if records[name] ~= value then
      set[#set + 1] = name
      set[#set + 1] = value
      records[name] = value
    end
  end
  record(':v', '1')
  for _, name in ipairs(schema.indexes) do
    known[name] = true
    local encoding, have = schema.encoding[name], records[name]
    if have == nil then
      record(name, fresh .. ':' .. encoding)
    else
      local state, stored = string.match(have, '^(%a+):(.*)$')
      -- (dropped stays dropped, empty or not: its sets may hold entries of deleted objects)
      if state ~= 'dropped' and (stored ~= encoding or (empty and state == 'building')) then
        record(name, (empty and 'ready' or 'building') .. ':' .. encoding)
      end
    end
  end
  for _, c in ipairs(schema.compounds) do
    known[c.name] = true
    local have = records[c.name]
    if have == nil then
      record(c.name, empty and 'ready' or 'building')
    elseif empty and have == 'building' then
      record(c.name, 'ready')
    end
  end
  for name, have in pairs(records) do
    if string.sub(name, 1, 1) ~= ':' and not known[name] and string.sub(have, 1, 7) ~= 'dropped' then
      local encoding = string.match(have, '^%a+(:.*)$') or ''
      record(name, 'dropped' .. encoding)
    end
  end
  local ready = true -- after this call, is every index of this writer ready?
  for name in pairs(known) do
    local value = records[name]
    if value ~= 'ready' and string.sub(value, 1, 6) ~= 'ready:' then ready = false end
  end
  schema.all_ready = ready
  if ready then
    record(':w', schema.signature)
    redis.call('HSET', gp .. 'schema', unpack(set))
  else
    if #set > 0 then redis.call('HSET', gp .. 'schema', unpack(set)) end
    redis.call('HDEL', gp .. 'schema', ':w') -- another writer's signature may no longer hold
  end
end

-- Is every index of `schema` ready in generation gp, with the schema's encoding (read-only)?
-- If not, also the name of one that is not, and its record ('' when it has none). (A
-- generation without records, written by an older typedredis, is taken as ready, as
-- note_indexes takes it.)
local function all_ready(gp, schema)
  if redis.call('HGET', gp .. 'schema', ':w') == schema.signature then
    schema.all_ready = true -- (note_indexes then has nothing to record)
    return true
  end
  local records = index_records(gp)
  if records[':v'] == nil then return true end
  for _, name in ipairs(schema.indexes) do
    if records[name] ~= 'ready:' .. schema.encoding[name] then return false, name, records[name] or '' end
  end
  for _, c in ipairs(schema.compounds) do
    if records[c.name] ~= 'ready' then return false, c.name, records[c.name] or '' end
  end
  return true
end

-- Delete objects and their index entries; returns how many existed.
local function delete_objects(gp, schema, pks)
  note_indexes(gp, schema)
  local batch, keys = changes(), {}
  for i, pk in ipairs(pks) do
    change(batch, gp, schema, pk, read_state(gp, schema, pk), nil)
    keys[i] = gp .. 'o:' .. pk
  end
  local deleted, stamped = 0, false
  for i = 1, #keys, CHUNK do
    local gone = redis.call('ZREM', gp .. 'all', unpack(pks, i, math.min(i + CHUNK - 1, #pks)))
    local dropped = redis.call('DEL', unpack(keys, i, math.min(i + CHUNK - 1, #keys)))
    deleted = deleted + dropped
    if not stamped and gone + dropped > 0 then -- (after a write: a full memory refuses no delete)
      stamp_written()
      stamped = true
    end
  end
  apply_changes(gp, batch)
  return deleted
end

-- -- reindex jobs (typedredis/reindex.py): kept in the generation's schema hash ------------
--
-- Every call of a job names its generation and token. The job, while it is still that one:
-- {gp, key (the schema hash), plan, phase, at}; else nil and the reply that refuses the call:
-- {'!gen'} (a reset switched generations) or {'!job'} (another job replaced this one).
local function reindex_job(gen, token)
  if current_gen() ~= gen then return nil, {'!gen'} end
  local gp = gen_prefix(gen)
  local job = redis.call('HMGET', gp .. 'schema', ':job', ':plan', ':phase', ':at')
  if job[1] ~= token then return nil, {'!job'} end
  return {gp = gp, key = gp .. 'schema', plan = job[2], phase = job[3], at = job[4]}
end
