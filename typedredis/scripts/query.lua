-- query.lua: evaluate a set program (see typedredis/compiler.py) and act on its result, in
-- one atomic step: the caller sees one consistent state in one round trip.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          action: count | exists | pks | fetch | first | delete
-- ARGV[2]          the msgpack array header of a row of nf values (fetch, first)
-- ARGV[3]          nf: number of field names that follow
-- ARGV[4..3+nf]    fields to fetch (fetch, first) or indexed fields (delete)
-- ARGV[4+nf]       nops: number of set operations
-- then per operation: opcode (I inter, U union, D diff), n, then n operands
-- last             the result operand
-- Operands: 'k<suffix>' the index set <gen>:<suffix>, 'a' all objects, 'r<i>' the result of
-- operation i (a scratch key {K}:tmp:<i>, deleted before the script returns).
-- Returns: count, exists -> integer; pks -> primary keys, in no particular order;
-- fetch, first -> the current generation, then per object its pk and its row (header ..
-- value1 .. value2 ..., see lib.lua); delete -> how many objects were deleted.
local action = ARGV[1]
local header = ARGV[2]
local nf = tonumber(ARGV[3])
local fields = {}
for i = 1, nf do fields[i] = ARGV[3 + i] end
local at = 4 + nf
local nops = tonumber(ARGV[at])
at = at + 1
local gen = current_gen()
local gp = gen_prefix(gen)

local function operand(s)
  local c = string.sub(s, 1, 1)
  if c == 'k' then return gp .. string.sub(s, 2) end
  if c == 'r' then return BASE .. 'tmp:' .. string.sub(s, 2) end
  return gp .. 'all'
end

local STORE = {I = 'SINTERSTORE', U = 'SUNIONSTORE', D = 'SDIFFSTORE'}
local scratch = {}
local function finish(result)
  unlink_all(scratch)
  return result
end

for i = 1, nops do
  local code = ARGV[at]
  local n = tonumber(ARGV[at + 1])
  local keys = {}
  for j = 1, n do keys[j] = operand(ARGV[at + 1 + j]) end
  at = at + 2 + n
  if i == nops and code == 'I' and HAS_SINTERCARD and (action == 'count' or action == 'exists') then
    if action == 'exists' then
      return finish(math.min(redis.call('SINTERCARD', n, unpack(keys)), 1))
    end
    return finish(redis.call('SINTERCARD', n, unpack(keys)))
  end
  local dst = BASE .. 'tmp:' .. i
  scratch[#scratch + 1] = dst
  redis.call(STORE[code], dst, unpack(keys))
end
local result = operand(ARGV[at])

if action == 'count' then
  return finish(redis.call('SCARD', result))
elseif action == 'exists' then
  return finish(math.min(redis.call('SCARD', result), 1))
elseif action == 'delete' then
  local names = member_fields(fields)
  local deleted = 0
  for _, pk in ipairs(redis.call('SMEMBERS', result)) do
    deleted = deleted + delete_object(gp, pk, fields, names)
  end
  return finish(deleted)
end

-- unordered: callers sort by pk (cheaper on the client than SORT on the single-threaded server);
-- only `first` needs the server to find the lowest pk
local pks
if action == 'first' then
  pks = redis.call('SORT', result, 'LIMIT', 0, 1)
else
  pks = redis.call('SMEMBERS', result)
end
if action == 'pks' then
  return finish(pks)
end
local out = {tonumber(gen)}
for _, pk in ipairs(pks) do
  out[#out + 1] = pk
  out[#out + 1] = row(header, redis.call('HMGET', gp .. 'o:' .. pk, unpack(fields)), nf)
end
return finish(out)
