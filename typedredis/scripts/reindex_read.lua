-- reindex_read.lua: the objects of the fill phase's next batch, as stored (read-only).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the job's generation
-- ARGV[2]          the job's token
-- ARGV[3]          the checkpoint: the batch starts after this pk
-- ARGV[4]          the most objects to read
-- ARGV[5]          nf: the number of fields, then their names
-- Returns {last pk read ('' when none is left), rows} (rows: lib.lua, pack_rows); or
-- {'!gen'} / {'!job'} as reindex_clear.
local job, refused = reindex_job(ARGV[1], ARGV[2])
if not job then return refused end
local gp = job.gp
local pks = redis.call('ZRANGEBYSCORE', gp .. 'all', '(' .. ARGV[3], '+inf', 'LIMIT', 0, tonumber(ARGV[4]))
local fields = {}
for i = 1, tonumber(ARGV[5]) do fields[i] = ARGV[5 + i] end
return {pks[#pks] or '', pack_rows(gp, pks, fields)}
