-- reset_cleanup.lua: delete a bounded number of keys of retired generations. Callers repeat
-- it until it returns 0, so the server is never blocked for a whole dataset.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          budget: the most keys to delete in this call
-- Returns how many retired generations remain.
local budget = tonumber(ARGV[1])
local retired = BASE .. 'retired'
local gen = redis.call('SRANDMEMBER', retired)
if not gen then return 0 end
local gp = gen_prefix(gen)
local pks = redis.call('SPOP', gp .. 'all', budget)
if #pks > 0 then
  local keys = {}
  for i, pk in ipairs(pks) do keys[i] = gp .. 'o:' .. pk end
  unlink_all(keys)
  budget = budget - #pks
end
if budget > 0 then
  local sets = redis.call('SPOP', gp .. 'ix', budget)
  if #sets > 0 then
    unlink_all(sets)
    budget = budget - #sets
  end
end
if budget > 0 then
  redis.call('SREM', retired, gen)
end
return redis.call('SCARD', retired)
