-- reset_abort.lua: give up a staged generation; it is retired and removed by cleanup.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the staged generation
-- Returns 1 if the generation was still being staged (it is now retired), 2 if it is the
-- current generation (its switch happened: a lost reply), 0 otherwise (reclaimed as stale).
local removed = redis.call('ZREM', BASE .. 'staging', ARGV[1])
if removed == 1 then
  redis.call('HSET', BASE .. 'retired', ARGV[1], 'o')
  return 1
end
if current_gen() == ARGV[1] then return 2 end
return 0
