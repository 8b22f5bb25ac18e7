-- reset_begin.lua: allocate a new generation for `reset` to stage its dataset in.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          stale_ms: staging generations whose heartbeat is older than this are
--                  abandoned (their writer died); they are retired so that cleanup removes them
-- Returns the new generation number.
local now = now_ms()
local staging = BASE .. 'staging'
local stale = redis.call('ZRANGEBYSCORE', staging, '-inf', now - tonumber(ARGV[1]))
for _, gen in ipairs(stale) do
  redis.call('ZREM', staging, gen)
  redis.call('HSET', BASE .. 'retired', gen, 'o')
end
local gen = redis.call('HINCRBY', META, 'lastgen', 1)
redis.call('ZADD', staging, now, gen)
return gen
