-- get.lua: fetch objects by primary key.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          nf: number of fields to fetch
-- ARGV[2..1+nf]    the field names
-- ARGV[2+nf..]     primary keys
-- Returns the current generation, then, per primary key, 1 + nf values: 1 if the object exists (else 0), then its fields
-- (nil where absent).
local gen = current_gen()
local gp = gen_prefix(gen)
local nf = tonumber(ARGV[1])
local fields = {}
for i = 1, nf do fields[i] = ARGV[1 + i] end
local out = {tonumber(gen)}
for at = 2 + nf, #ARGV do
  local okey = gp .. 'o:' .. ARGV[at]
  local values = redis.call('HMGET', okey, unpack(fields))
  local found = 0
  for i = 1, nf do
    if values[i] then found = 1 break end
  end
  if found == 0 then found = redis.call('EXISTS', okey) end
  out[#out + 1] = found
  for i = 1, nf do out[#out + 1] = values[i] end
end
return out
