-- save.lua: insert or replace objects, moving their index entries from the stored old
-- values to the new ones, all in one atomic step; refuses (writing nothing) a batch that
-- would leave two objects with one value of a unique field, or, when inserting, a batch
-- that names a primary key which is already stored (or twice).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          target generation: '' for the current one, or a generation that `reset`
--                  is staging (then every object is new in it, and inserted)
-- ARGV[2]          mode: 'i' inserts (refuses stored pks), '' inserts or replaces
-- ARGV[3]          ni: number of equality-indexed fields (first among the field names)
-- ARGV[4]          nu: how many of those are unique (they come first)
-- ARGV[5]          ns: number of sorted fields (their names follow the field names)
-- ARGV[6]          nf: number of stored fields
-- ARGV[7..6+nf]    the field names; ARGV[7+nf..6+nf+ns] the sorted field names
-- then, per object, 1 + nf + ni + ns arguments:
--                  pk ('' allocates a new one), nf msgpack values,
--                  ni index members ('' when the member equals the stored value), ns sort keys
-- Returns the objects' primary keys, in order; or, writing nothing:
--                  {'!unique', field, member} when a unique value would be shared;
--                  {'!exists', pk} when inserting an object whose pk is stored or repeated;
--                  {'!pks'} when new pks would go beyond 2^53 - 1.
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
local gp = gen_prefix(gen)
local ni, nu, ns, nf = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local fields, sorted = {}, {}
for i = 1, nf do fields[i] = ARGV[6 + i] end
for j = 1, ns do sorted[j] = ARGV[6 + nf + j] end
local indexed = {}
for i = 1, ni do indexed[i] = fields[i] end
local names = member_fields(indexed, sorted)
local first = 7 + nf + ns
local stride = 1 + nf + ni + ns

-- pass 1: read what is stored, and check unique fields against the batch's final state
local objects, named = {}, {}
for at = first, #ARGV, stride do
  local o = {at = at, pk = ARGV[at]}
  if o.pk ~= '' then
    if insert then
      if named[o.pk] or redis.call('EXISTS', gp .. 'o:' .. o.pk) == 1 then
        return {'!exists', o.pk}
      end
      named[o.pk] = true
    elseif #names > 0 then
      o.stored = redis.call('HMGET', gp .. 'o:' .. o.pk, unpack(names))
    end
  end
  objects[#objects + 1] = o
end
local function member_of(o, i)
  local member = ARGV[o.at + nf + i]
  if member == '' then member = ARGV[o.at + i] end
  return member
end
if nu > 0 then
  local in_batch = {}
  for _, o in ipairs(objects) do
    if o.pk ~= '' then in_batch[o.pk] = true end
  end
  for i = 1, nu do
    local claims = {}
    for n, o in ipairs(objects) do
      local member = member_of(o, i)
      if member ~= NIL_MEMBER then -- None is never a duplicate (as SQL's NULL)
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
-- (pks travel as decimal strings: a Lua number argument would be formatted with %.14g)
local top, fresh = nil, 0
for _, o in ipairs(objects) do
  if o.pk == '' then
    fresh = fresh + 1
  elseif top == nil or tonumber(o.pk) > tonumber(top) then
    top = o.pk
  end
end
local counter = tonumber(redis.call('HGET', META, 'pk') or '0')
if fresh > 0 and math.max(counter, tonumber(top or '0')) + fresh > MAX_PK then
  return {'!pks'} -- the counter would leave the range where pks stay exact
end
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
local pks, touched, registry, written = {}, {}, {}, {}
local removed = false -- whether an index entry was removed (then a touched key may be gone)
local function register(key)
  if not touched[key] then
    touched[key] = true
    registry[#registry + 1] = key
  end
end
for _, o in ipairs(objects) do
  local at, pk, stored = o.at, o.pk, o.stored
  local new = insert
  if pk == '' then
    nextpk = nextpk + 1
    pk = int_string(nextpk)
    new = true
  elseif written[pk] then
    -- the same pk twice in one call: its index entries are now the earlier copy's
    stored = redis.call('HMGET', gp .. 'o:' .. pk, unpack(names))
    new = false
  end
  written[pk] = true
  local okey = gp .. 'o:' .. pk
  local hset = {okey}
  for i = 1, nf do
    hset[2 * i] = fields[i]
    hset[2 * i + 1] = ARGV[at + i]
  end
  for i = 1, ni do
    local member = member_of(o, i)
    if member ~= ARGV[at + i] then
      hset[#hset + 1] = '#' .. fields[i]
      hset[#hset + 1] = member
    end
    local old = stored and (stored[2 * i] or stored[2 * i - 1])
    if old and old ~= member then
      index_remove(gp, gp .. 'i:' .. fields[i] .. ':' .. old, pk)
      removed = true
    end
    -- added even when the member did not change: the field may have been stored before it
    -- was indexed (a schema change), and SADD is idempotent
    local key = gp .. 'i:' .. fields[i] .. ':' .. member
    redis.call('SADD', key, pk)
    register(key)
  end
  for j = 1, ns do
    local sortkey = ARGV[at + nf + ni + j]
    local key = gp .. 's:' .. sorted[j]
    local old = stored and stored[2 * ni + j]
    if old and old ~= sortkey then
      zindex_remove(gp, key, old .. pk8(pk))
      removed = true
    end
    redis.call('ZADD', key, 0, sortkey .. pk8(pk))
    register(key)
    hset[#hset + 1] = '~' .. sorted[j]
    hset[#hset + 1] = sortkey
  end
  if not new then
    redis.call('DEL', okey)
  end
  redis.call('HSET', unpack(hset))
  pks[#pks + 1] = pk
end
if #pks > 0 then
  local scored = {}
  for i, pk in ipairs(pks) do
    scored[2 * i - 1] = pk
    scored[2 * i] = pk
  end
  call_chunked('ZADD', gp .. 'all', scored)
end
if removed then
  local existing = {}
  for _, key in ipairs(registry) do
    if redis.call('EXISTS', key) == 1 then existing[#existing + 1] = key end
  end
  registry = existing
end
if #registry > 0 then
  local scored = {}
  for i, key in ipairs(registry) do
    scored[2 * i - 1] = 0
    scored[2 * i] = key
  end
  call_chunked('ZADD', gp .. 'ix', scored)
end
for i = 1, #pks do pks[i] = tonumber(pks[i]) end
return pks
