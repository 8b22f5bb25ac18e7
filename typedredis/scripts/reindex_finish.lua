-- reindex_finish.lua: end a reindex job once its fill phase read past the last object: its
-- indexes become ready, unless a writer that does not maintain one of them (or maintains it
-- with another encoding) changed objects meanwhile. (One that a writer found ready, the model
-- being empty, stays so.)
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the job's generation
-- ARGV[2]          the job's token
-- ARGV[3]          the fill phase's checkpoint
-- ARGV[4..]        the schema (lib.lua, read_schema)
-- Returns {'ok'}; {'!conflict', name, record, ...} (the job ends, its indexes stay as they
-- are: not ready); or {'!moved', phase, at}, {'!gen'}, {'!job'} as reindex_fill.
local job, refused = reindex_job(ARGV[1], ARGV[2])
if not job then return refused end
local gp, key = job.gp, job.key
if job.phase ~= 'fill' or job.at ~= ARGV[3] then return {'!moved', job.phase, job.at} end
local schema = read_schema(4)
local records = index_records(gp)
local ready, conflicts = {}, {}
for name in string.gmatch(string.match(job.plan, '^(.*)|'), '[^,]+') do
  local encoding = schema.encoding[name]
  local building = encoding and ('building:' .. encoding) or 'building'
  if records[name] == building or records[name] == 'ready' .. string.sub(building, 9) then
    ready[#ready + 1] = name
    ready[#ready + 1] = encoding and ('ready:' .. encoding) or 'ready'
  else
    conflicts[#conflicts + 1] = name
    conflicts[#conflicts + 1] = records[name] or ''
  end
end
redis.call('HDEL', key, ':job', ':plan', ':phase', ':at')
if #conflicts > 0 then return {'!conflict', unpack(conflicts)} end
if #ready > 0 then redis.call('HSET', key, unpack(ready)) end
return {'ok'}
