-- check_drop.lua: mark indexes dropped (`typedredis repair`): an audit found entries of theirs
-- that disagree with the objects, so queries must stop using them until a reindex rebuilds
-- them (a dropped index is cleared first, then rebuilt: reindex_begin).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the generation the audit read
-- ARGV[2]          n, then the n indexes' record names
-- then             the caller's schema (lib.lua, read_schema)
-- Returns how many were marked; 0 when the generation is no longer current.
local gen = ARGV[1]
if current_gen() ~= gen then return 0 end
local gp = gen_prefix(gen)
local key = gp .. 'schema'
local n = tonumber(ARGV[2])
local schema = read_schema(3 + n)
refuse_when_full()
if not redis.call('HGET', key, ':v') then note_indexes(gp, schema) end -- recorded as served
local marked = 0
for i = 3, 2 + n do
  local record = redis.call('HGET', key, ARGV[i])
  if record and string.sub(record, 1, 7) ~= 'dropped' then
    redis.call('HSET', key, ARGV[i], 'dropped' .. (string.match(record, '^%a+(:.*)$') or ''))
    marked = marked + 1
  end
end
redis.call('HDEL', key, ':w')
return marked
