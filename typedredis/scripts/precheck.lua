-- precheck.lua: what a save_all or insert_all of several script calls must know before its
-- first write (read-only): which primary keys are stored, and who holds values of unique fields.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          n: number of primary keys that follow
-- ARGV[2..1+n]     primary keys
-- then             pairs: unique field name, index member
-- Returns {flags, holders...}: flags[i] is 1 when the i-th pk is stored, else 0; then, per
-- pair, the primary keys of the objects holding that member.
local gp = gen_prefix(current_gen())
local n = tonumber(ARGV[1])
local flags = {}
for i = 1, n do
  flags[i] = redis.call('EXISTS', gp .. 'o:' .. ARGV[1 + i])
end
local out = {flags}
for i = 2 + n, #ARGV, 2 do
  out[#out + 1] = redis.call('SMEMBERS', gp .. 'i:' .. ARGV[i] .. ':' .. ARGV[i + 1])
end
return out
