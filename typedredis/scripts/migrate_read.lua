-- migrate_read.lua: the next batch of objects of `reindex --migrate`, whole (read-only): each
-- object's hash as stored, with every field, so that the caller can tell whether it is in the
-- form its code writes (values converted by a migration hook, fields the code removed).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the batch starts after this pk ('0' for the first batch)
-- ARGV[2]          the most objects to read
-- Returns {generation, last pk read ('' when none is left), the number of objects,
-- {pk, field, value, ...}, ...}: one
-- list per object whose hash exists (a pk whose hash is gone, e.g. evicted, is left out).
local gen = current_gen()
local gp = gen_prefix(gen)
local pks = redis.call('ZRANGEBYSCORE', gp .. 'all', '(' .. ARGV[1], '+inf', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {gen, pks[#pks] or '', redis.call('ZCARD', gp .. 'all')}
for _, pk in ipairs(pks) do
  local hash = redis.call('HGETALL', gp .. 'o:' .. pk)
  if #hash > 0 then
    table.insert(hash, 1, pk)
    out[#out + 1] = hash
  end
end
return out
