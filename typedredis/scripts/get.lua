-- get.lua: fetch objects by primary key.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          nf: number of fields to fetch
-- ARGV[2..1+nf]    the field names
-- ARGV[2+nf..]     primary keys
-- Returns {generation, rows}: rows as lib.lua's pack_rows makes them, for the primary keys
-- whose object exists, in the order asked.
local gen = current_gen()
local nf = tonumber(ARGV[1])
local fields = {}
for i = 1, nf do fields[i] = ARGV[1 + i] end
local pks = {}
for at = 2 + nf, #ARGV do pks[#pks + 1] = ARGV[at] end
return {gen, pack_rows(gen_prefix(gen), pks, fields)}
