-- holders.lua: who holds values of unique fields now (read-only; save_all checks a whole
-- list with it before writing anything).
--
-- KEYS[1]          {K}:meta
-- ARGV             pairs: field name, index member
-- Returns, per pair, the primary keys of the objects holding that member.
local gp = gen_prefix(current_gen())
local out = {}
for i = 1, #ARGV, 2 do
  out[#out + 1] = redis.call('SMEMBERS', gp .. 'i:' .. ARGV[i] .. ':' .. ARGV[i + 1])
end
return out
