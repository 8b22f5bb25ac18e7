-- reset_cleanup.lua: delete a bounded number of keys of retired generations. Callers repeat
-- it until it returns 0, so the server is never blocked for a whole dataset.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          budget: roughly the most keys to delete in this call
-- Returns how many retired generations remain.
--
-- {K}:retired maps each retired generation to its progress, "<phase>:<cursor>": phase 'o'
-- walks the generation's all-set with SSCAN and deletes the object hashes, phase 'i' walks
-- its registry and deletes the index sets; then the two sets themselves are UNLINKed (big
-- sets are freed in the background). SSCAN, unlike SPOP, costs O(budget) on a large set.
local budget = tonumber(ARGV[1])
local retired = BASE .. 'retired'
local entry = redis.call('HGETALL', retired)
if #entry == 0 then return 0 end
local gen, progress = entry[1], entry[2]
local gp = gen_prefix(gen)
local phase, cursor = string.match(progress, '^(%a):(%d+)$')
while budget > 0 do
  local source = phase == 'o' and (gp .. 'all') or (gp .. 'ix')
  local page = redis.call('SSCAN', source, cursor, 'COUNT', budget)
  cursor = page[1]
  local found = page[2]
  if phase == 'o' then
    for i, pk in ipairs(found) do found[i] = gp .. 'o:' .. pk end
  end
  unlink_all(found)
  budget = budget - math.max(#found, 1)
  if cursor == '0' then
    if phase == 'o' then
      phase = 'i'
    else
      redis.call('UNLINK', gp .. 'all', gp .. 'ix')
      redis.call('HDEL', retired, gen)
      return redis.call('HLEN', retired)
    end
  end
end
redis.call('HSET', retired, gen, phase .. ':' .. cursor)
return redis.call('HLEN', retired)
