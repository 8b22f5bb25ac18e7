-- check_objects.lua: audit a batch of objects (read-only): each object of the all-set has its
-- hash, and every entry its index state implies is in the indexes that are ready.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the checkpoint: the batch starts after this pk
-- ARGV[2]          the most objects to audit
-- ARGV[3..]        the schema (lib.lua, read_schema), then nf and the nf stored field names
-- Returns {gen, last pk audited ('' when none is left), rows, ready index names joined by
-- ',', problems...}: rows (lib.lua, pack_rows) hold each object's stored fields and then the
-- fields of schema.names (f, #f per equality field, ~s per sorted one: its index state, which
-- the caller checks against the values);
-- each problem is {kind, key, member}: 'nohash' (key: the object's), 'missing' (an entry the
-- object's state implies is not in the index key).
local gen = current_gen()
local gp = gen_prefix(gen)
local schema, at = read_schema(3)
local nf = tonumber(ARGV[at])
local fields = {}
for i = 1, nf do fields[i] = ARGV[at + i] end
for _, name in ipairs(schema.names) do fields[#fields + 1] = name end

local records = index_records(gp)
local served = records[':v'] == nil -- (no records: every index is served as it is)
local only, ready = {}, {}
for _, name in ipairs(schema.indexes) do
  if served or records[name] == 'ready:' .. schema.encoding[name] then only[name] = true end
end
for _, c in ipairs(schema.compounds) do
  if served or records[c.name] == 'ready' then only[c.name] = true end
end
for name in pairs(only) do ready[#ready + 1] = name end
table.sort(ready)
schema.only = only

local pks = redis.call('ZRANGEBYSCORE', gp .. 'all', '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
local problems = {}
for _, pk in ipairs(pks) do
  local okey = gp .. 'o:' .. pk
  if redis.call('EXISTS', okey) == 0 then
    problems[#problems + 1] = {'nohash', okey, pk}
  else
    each_entry(gp, schema, read_state(gp, schema, pk), pk, function(key, member, zset)
      local present
      if zset then
        present = redis.call('ZSCORE', key, member) == '0'
      else
        present = redis.call('SISMEMBER', key, member) == 1
      end
      if not present then problems[#problems + 1] = {'missing', key, member} end
    end)
  end
end
local out = {gen, pks[#pks] or '', pack_rows(gp, pks, fields), table.concat(ready, ',')}
for _, problem in ipairs(problems) do out[#out + 1] = problem end
return out
