-- delete.lua: delete objects by primary key, with their index entries.
--
-- KEYS[1]          {K}:meta
-- ARGV             the schema (see lib.lua, read_schema), then primary keys
-- Returns how many of the objects existed.
local gp = gen_prefix(current_gen())
local schema, first = read_schema(1)
local pks = {}
for at = first, #ARGV do pks[#pks + 1] = ARGV[at] end
return delete_objects(gp, schema, pks)
