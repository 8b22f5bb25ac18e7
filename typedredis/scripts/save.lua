-- save.lua: insert or replace objects, moving their index entries from the stored old
-- values to the new ones, all in one atomic step.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          target generation: '' for the current one, or a generation that `reset`
--                  is staging (then every object is new in it)
-- ARGV[2]          ni: number of indexed fields
-- ARGV[3]          nf: number of stored fields, indexed ones first
-- ARGV[4..3+nf]    the field names
-- then, per object, 1 + nf + ni arguments:
--                  pk ('' allocates a new one), nf msgpack values,
--                  ni index members ('' when the member equals the stored value)
-- Returns the objects' primary keys, in order.
local gen = ARGV[1]
local staging = gen ~= ''
if staging then
  if not redis.call('ZSCORE', BASE .. 'staging', gen) then
    return redis.error_reply('typedredis: generation ' .. gen .. ' is no longer being staged')
  end
  redis.call('ZADD', BASE .. 'staging', 'XX', now_ms(), gen)
else
  gen = current_gen()
end
local gp = gen_prefix(gen)
local ni = tonumber(ARGV[2])
local nf = tonumber(ARGV[3])
local fields = {}
for i = 1, nf do fields[i] = ARGV[3 + i] end
local indexed = {}
for i = 1, ni do indexed[i] = fields[i] end
local names = member_fields(indexed)
local first = 4 + nf
local stride = 1 + nf + ni

-- explicit primary keys first, so that newly allocated ones never collide with them
local top = nil
local fresh = 0
for at = first, #ARGV, stride do
  local pk = ARGV[at]
  if pk == '' then
    fresh = fresh + 1
  elseif top == nil or tonumber(pk) > top then
    top = tonumber(pk)
  end
end
if top ~= nil and top > tonumber(redis.call('HGET', META, 'pk') or '0') then
  redis.call('HSET', META, 'pk', top)
end
local nextpk = 0
if fresh > 0 then
  nextpk = redis.call('HINCRBY', META, 'pk', fresh) - fresh
end

local pks = {}
local touched = {}
local registry = {}
for at = first, #ARGV, stride do
  local pk = ARGV[at]
  local new = staging
  if pk == '' then
    nextpk = nextpk + 1
    pk = tostring(nextpk)
    new = true
  end
  local okey = gp .. 'o:' .. pk
  local stored = nil
  if not new and ni > 0 then
    stored = redis.call('HMGET', okey, unpack(names))
  end
  local hset = {okey}
  for i = 1, nf do
    hset[2 * i] = fields[i]
    hset[2 * i + 1] = ARGV[at + i]
  end
  for i = 1, ni do
    local member = ARGV[at + nf + i]
    if member == '' then
      member = ARGV[at + i]
    else
      hset[#hset + 1] = '#' .. fields[i]
      hset[#hset + 1] = member
    end
    local old = stored and (stored[2 * i] or stored[2 * i - 1])
    if old and old ~= member then
      index_remove(gp, gp .. 'i:' .. fields[i] .. ':' .. old, pk)
    end
    -- added even when the member did not change: the field may have been stored before it
    -- was indexed (a schema change), and SADD is idempotent
    local key = gp .. 'i:' .. fields[i] .. ':' .. member
    redis.call('SADD', key, pk)
    if not touched[key] then
      touched[key] = true
      registry[#registry + 1] = key
    end
  end
  if not new then
    redis.call('DEL', okey)
  end
  redis.call('HSET', unpack(hset))
  pks[#pks + 1] = pk
end
if #pks > 0 then
  call_chunked('SADD', gp .. 'all', pks)
end
if #registry > 0 then
  call_chunked('SADD', gp .. 'ix', registry)
end
for i = 1, #pks do pks[i] = tonumber(pks[i]) end
return pks
