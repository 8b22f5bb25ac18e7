-- reset_switch.lua: make a staged generation the current one, in O(1).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the staged generation
-- Returns the generation it replaced (now retired, to be removed by reset_cleanup.lua).
local gen = ARGV[1]
if not redis.call('ZSCORE', BASE .. 'staging', gen) then
  return redis.error_reply('typedredis: generation ' .. gen .. ' is no longer being staged')
end
local old = current_gen()
redis.call('HSET', META, 'gen', gen)
redis.call('ZREM', BASE .. 'staging', gen)
redis.call('HSET', BASE .. 'retired', old, 'o')
return tonumber(old)
