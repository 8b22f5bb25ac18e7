-- reindex_clear.lua: the first phase of a reindex job: delete a bounded number of the keys
-- of the indexes it rebuilds or removes (their entries may be stale: written with another
-- encoding, or left behind by a writer that did not maintain them). Callers repeat it until
-- the phase is 'fill'.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the job's generation
-- ARGV[2]          the job's token
-- ARGV[3]          budget: the most keys to delete in this call
-- Returns {phase, at}; or {'!gen'} when a reset switched generations, {'!job'} when another
-- job replaced this one.
--
-- The keys are found in the generation's registry (a sorted set of key names, all scores 0)
-- by lexicographic range: i:<field>:* for an equality index, s:<field> for a sorted one,
-- c:<name>:* for a compound one. ':at' is '<n>:<key>': the n-th name of the plan, and the
-- last key deleted in its range (a string, valid across restarts). Keys that writers add
-- behind it hold only entries those writers maintain; the fill phase adds the rest.
local job, refused = reindex_job(ARGV[1], ARGV[2])
if not job then return refused end
local gp, key = job.gp, job.key
if job.phase ~= 'clear' then return {job.phase, job.at} end

local build, removed = string.match(job.plan, '^(.*)|(.*)$')
local names = {}
for name in string.gmatch(build .. ',' .. removed, '[^,]+') do names[#names + 1] = name end
local function range(name) -- ZRANGEBYLEX bounds of the index's keys
  local kind, field = string.match(name, '^([es]):(.+)$')
  if kind == 's' then return '[' .. gp .. 's:' .. field, '[' .. gp .. 's:' .. field end
  local prefix = kind == 'e' and (gp .. 'i:' .. field .. ':') or (gp .. 'c:' .. name .. ':')
  return '[' .. prefix, '(' .. string.sub(prefix, 1, -2) .. ';' -- (';' follows ':')
end

local n, from = string.match(job.at, '^(%d+):(.*)$')
n = tonumber(n)
local budget = tonumber(ARGV[3])
while budget > 0 and n <= #names do
  local low, high = range(names[n])
  if from ~= '' then low = '(' .. from end
  local found = redis.call('ZRANGEBYLEX', gp .. 'ix', low, high, 'LIMIT', 0, budget)
  if #found > 0 then
    unlink_all(found)
    call_chunked('ZREM', gp .. 'ix', found)
    from = found[#found]
  end
  if #found < budget then
    n, from = n + 1, ''
  end
  budget = budget - #found
end
if n <= #names then
  redis.call('HSET', key, ':at', n .. ':' .. from)
  return {'clear', n .. ':' .. from}
end
-- every key is gone: the removed indexes are forgotten (a release that declares one again
-- records it as building), and the fill phase starts before the first pk
local forget = {}
for name in string.gmatch(removed, '[^,]+') do forget[#forget + 1] = name end
if #forget > 0 then redis.call('HDEL', key, unpack(forget)) end
redis.call('HSET', key, ':phase', 'fill', ':at', '0')
return {'fill', '0'}
