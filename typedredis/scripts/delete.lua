-- delete.lua: delete objects by primary key, with their index entries.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          ni: number of equality-indexed fields, ARGV[2..1+ni] their names
-- ARGV[2+ni]       ns: number of sorted fields, then their names
-- then             primary keys
-- Returns how many of the objects existed.
local gp = gen_prefix(current_gen())
local ni = tonumber(ARGV[1])
local indexed, sorted = {}, {}
for i = 1, ni do indexed[i] = ARGV[1 + i] end
local ns = tonumber(ARGV[2 + ni])
for j = 1, ns do sorted[j] = ARGV[2 + ni + j] end
local names = member_fields(indexed, sorted)
local deleted = 0
for at = 3 + ni + ns, #ARGV do
  deleted = deleted + delete_object(gp, ARGV[at], indexed, sorted, names)
end
return deleted
