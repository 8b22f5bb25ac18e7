-- delete.lua: delete objects by primary key, with their index entries.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          ni: number of indexed fields
-- ARGV[2..1+ni]    the indexed field names
-- ARGV[2+ni..]     primary keys
-- Returns how many of the objects existed.
local gp = gen_prefix(current_gen())
local ni = tonumber(ARGV[1])
local indexed = {}
for i = 1, ni do indexed[i] = ARGV[1 + i] end
local names = member_fields(indexed)
local deleted = 0
for at = 2 + ni, #ARGV do
  deleted = deleted + delete_object(gp, ARGV[at], indexed, names)
end
return deleted
