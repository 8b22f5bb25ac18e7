-- check_resets.lua: what resets left behind (read-only): generations being staged whose
-- heartbeat is older than the stale limit (their writer died), and retired generations whose
-- clean-up has not finished (a crash or a restart stopped it).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          stale_ms (typedredis.operations.STALE_STAGING_MS)
-- Returns {stale staging generations..., '', retired generations...}.
local stale = redis.call('ZRANGEBYSCORE', BASE .. 'staging', '-inf', now_ms() - tonumber(ARGV[1]))
stale[#stale + 1] = ''
local retired = redis.call('HGETALL', BASE .. 'retired') -- generation -> clean-up phase
for i = 1, #retired, 2 do stale[#stale + 1] = retired[i] end
return stale
