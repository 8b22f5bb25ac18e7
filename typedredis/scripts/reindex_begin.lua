-- reindex_begin.lua: plan the online rebuild of a model's indexes in its current generation,
-- or resume the one that is running with the same plan (see typedredis/reindex.py).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          a new job token (taken unless the same plan is already running)
-- ARGV[2]          'join' to leave a running job of another plan alone (else it is replaced)
-- ARGV[3..]        the caller's schema (lib.lua, read_schema)
-- Returns {gen, token, phase, at, objects, build names..., '', removed names...}; phase is
-- 'done' (with no names) when every index of the schema is ready and nothing is left to
-- remove; {'!other'} when joining and a job of another plan is running.
--
-- The plan: rebuild every index of the schema that is not ready with the schema's encoding,
-- and every compound index over a sorted field that is rebuilt (its entries hold that
-- field's sort keys); remove the dropped indexes that the schema does not declare. The job
-- lives in the generation's schema hash: ':job' (its token), ':plan' ("build|removed", names
-- joined by ','), ':phase' ('clear' then 'fill') and ':at' (the phase's checkpoint). Its
-- indexes are marked building, so queries refuse them until reindex_finish marks them ready.
local gen = current_gen()
local gp = gen_prefix(gen)
local key = gp .. 'schema'
local schema = read_schema(3)
if not redis.call('HGET', key, ':v') then -- no writer recorded anything in this generation
  -- empty: every index is complete, and stays so for whichever release writes first; else
  -- (written by a typedredis before records) recorded as any writer would, as its code left it
  if redis.call('ZCARD', gp .. 'all') == 0 then return {gen, '', 'done', '', 0, ''} end
  note_indexes(gp, schema)
end
local records = index_records(gp)

local function wanted(name) -- the record of an index this job builds, while it builds
  local encoding = schema.encoding[name]
  return encoding and ('building:' .. encoding) or 'building'
end

local build, rebuilt, known = {}, {}, {}
for _, name in ipairs(schema.indexes) do
  known[name] = true
  if records[name] ~= 'ready:' .. schema.encoding[name] then
    build[#build + 1] = name
    rebuilt[name] = true
  end
end
for _, c in ipairs(schema.compounds) do
  known[c.name] = true
  local over = c.sorted > 0 and rebuilt['s:' .. schema.sorted[c.sorted]]
  if records[c.name] ~= 'ready' or over then build[#build + 1] = c.name end
end
local removed = {}
for name, value in pairs(records) do
  if string.sub(name, 1, 1) ~= ':' and not known[name] and string.sub(value, 1, 7) == 'dropped' then
    removed[#removed + 1] = name
  end
end
table.sort(removed)
if #build == 0 and #removed == 0 then return {gen, '', 'done', '', 0, ''} end

local plan = table.concat(build, ',') .. '|' .. table.concat(removed, ',')
local token = ARGV[1]
local resume = records[':job'] ~= nil and records[':plan'] == plan
for _, name in ipairs(build) do -- (a writer without one of them ran meanwhile: start over)
  if records[name] ~= wanted(name) then resume = false end
end
if resume then
  token = records[':job']
elseif records[':job'] ~= nil and ARGV[2] == 'join' then
  return {'!other'}
else
  refuse_when_full()
  local set = {':job', token, ':plan', plan, ':phase', 'clear', ':at', '1:'}
  for _, name in ipairs(build) do
    set[#set + 1] = name
    set[#set + 1] = wanted(name)
  end
  redis.call('HSET', key, unpack(set))
  redis.call('HDEL', key, ':w')
end
local job = redis.call('HMGET', key, ':phase', ':at')
local out = {gen, token, job[1], job[2], redis.call('ZCARD', gp .. 'all')}
for _, name in ipairs(build) do out[#out + 1] = name end
out[#out + 1] = ''
for _, name in ipairs(removed) do out[#out + 1] = name end
return out
