-- reset_cleanup.lua: delete a bounded number of keys of retired generations. Callers repeat
-- it until it returns 0, so the server is never blocked for a whole dataset.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          budget: roughly the most keys to delete in this call
-- Returns how many retired generations remain.
--
-- {K}:retired maps each retired generation to its phase: 'o' deletes the object hashes named
-- by the generation's `all` sorted set, 'i' the index keys named by its registry `ix`. Each
-- step takes the first entries by rank, deletes their keys, and then removes those entries
-- (ZREMRANGEBYRANK), so there is no cursor to lose: a restart, a crash or a concurrent
-- cleanup never skips a key. Then the two sorted sets themselves go, with the schema hash.
local budget = tonumber(ARGV[1])
local retired = BASE .. 'retired'
local entry = redis.call('HGETALL', retired)
if #entry == 0 then return 0 end
local gen, phase = entry[1], string.sub(entry[2], 1, 1)
local gp = gen_prefix(gen)
while budget > 0 do
  local source = phase == 'o' and (gp .. 'all') or (gp .. 'ix')
  local found = redis.call('ZRANGE', source, 0, budget - 1)
  if #found == 0 then
    if phase == 'o' then
      phase = 'i'
    else
      redis.call('UNLINK', gp .. 'all', gp .. 'ix', gp .. 'schema')
      redis.call('HDEL', retired, gen)
      return redis.call('HLEN', retired)
    end
  else
    local keys = {}
    for i, name in ipairs(found) do keys[i] = phase == 'o' and (gp .. 'o:' .. name) or name end
    unlink_all(keys)
    redis.call('ZREMRANGEBYRANK', source, 0, #found - 1)
    budget = budget - #found
  end
end
redis.call('HSET', retired, gen, phase)
return redis.call('HLEN', retired)
