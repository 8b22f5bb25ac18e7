-- get.lua: fetch objects by primary key.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the msgpack array header of a row of nf values
-- ARGV[2]          nf: number of fields to fetch
-- ARGV[3..2+nf]    the field names
-- ARGV[3+nf..]     primary keys
-- Returns the current generation, then per primary key two values: 1 if the object exists
-- (else 0), and its row (header .. value1 .. value2 ..., see lib.lua).
local gen = current_gen()
local gp = gen_prefix(gen)
local header = ARGV[1]
local nf = tonumber(ARGV[2])
local fields = {}
for i = 1, nf do fields[i] = ARGV[2 + i] end
local out = {tonumber(gen)}
for at = 3 + nf, #ARGV do
  local okey = gp .. 'o:' .. ARGV[at]
  local values = redis.call('HMGET', okey, unpack(fields))
  local found = 0
  for i = 1, nf do
    if values[i] then found = 1 break end
  end
  if found == 0 then found = redis.call('EXISTS', okey) end
  out[#out + 1] = found
  out[#out + 1] = row(header, values, nf)
end
return out
