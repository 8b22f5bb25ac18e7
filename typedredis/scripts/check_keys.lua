-- check_keys.lua: audit index keys (read-only), walking the generation's registry: every
-- registered key exists, and every entry of a ready index belongs to an object whose index
-- state implies it.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          the last key audited ('' to start)
-- ARGV[2]          within ARGV[1]: where the audit of its entries stopped ('' when done)
-- ARGV[3]          budget: the most entries to audit
-- ARGV[4..]        the schema (lib.lua, read_schema)
-- Returns {gen, key, position, problems...}: the position to go on from ({'', ''} at the
-- end); each problem is {kind, key, member}: 'gone' (the registry names a key that does not
-- exist), 'stale' (an entry that no object's state implies).
local gen = current_gen()
local gp = gen_prefix(gen)
local schema = read_schema(4)
local records = index_records(gp)
local served = records[':v'] == nil
local function ready(name)
  local encoding = schema.encoding[name]
  return served or records[name] == (encoding and ('ready:' .. encoding) or 'ready')
end
local eq_at, sorted_at, compound_at = {}, {}, {}
for i, f in ipairs(schema.eq) do eq_at[f] = i end
for j, f in ipairs(schema.sorted) do sorted_at[f] = j end
for _, c in ipairs(schema.compounds) do compound_at[c.name] = c end

-- which index a key belongs to, if it is one of a ready index of this schema
local function index_of(key)
  local rest = string.sub(key, #gp + 1)
  local kind, name = string.match(rest, '^([isc]):([^:]+)')
  if kind == 'i' and eq_at[name] and ready('e:' .. name) then return 'e:' .. name end
  if kind == 's' and rest == 's:' .. name and sorted_at[name] and ready('s:' .. name) then return 's:' .. name end
  if kind == 'c' and compound_at[name] and ready(name) then return name end
  return nil
end

-- whether object pk's state implies entry (key, member) of index `name`
local function implied(name, key, member, pk)
  if not redis.call('ZSCORE', gp .. 'all', pk) then return false end
  local found = false
  schema.only = {[name] = true}
  each_entry(gp, schema, read_state(gp, schema, pk), pk, function(k, m)
    if k == key and m == member then found = true end
  end)
  return found
end

local problems = {}
local budget = tonumber(ARGV[3])
local key, position = ARGV[1], ARGV[2]
while budget > 0 do
  if position == '' then -- the next registered key
    local low = key == '' and '-' or ('(' .. key)
    local next_key = redis.call('ZRANGEBYLEX', gp .. 'ix', low, '+', 'LIMIT', 0, 1)[1]
    if not next_key then return {gen, '', '', unpack(problems)} end
    key, position = next_key, 'start'
    budget = budget - 1
    if budget <= 0 then break end -- (COUNT 0 and LIMIT 0 0 would read nothing of it)
  end
  local name = index_of(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then
    problems[#problems + 1] = {'gone', key, ''}
    position = ''
  elseif not name then
    position = '' -- not an index this code reads (another release's, or one being built)
  elseif kind == 'set' then
    local reply = redis.call('SSCAN', key, position == 'start' and '0' or position, 'COUNT', budget)
    for _, pk in ipairs(reply[2]) do
      if not implied(name, key, pk, pk) then problems[#problems + 1] = {'stale', key, pk} end
    end
    budget = budget - #reply[2] - 1
    position = reply[1] == '0' and '' or reply[1]
  else -- a sorted set: members `sort key .. pk8`, all scored 0
    local low = position == 'start' and '-' or ('(' .. position)
    local entries = redis.call('ZRANGEBYLEX', key, low, '+', 'LIMIT', 0, budget)
    for _, entry in ipairs(entries) do
      if not implied(name, key, entry, pk_of(entry)) or redis.call('ZSCORE', key, entry) ~= '0' then
        problems[#problems + 1] = {'stale', key, entry}
      end
    end
    budget = budget - #entries - 1
    position = #entries > 0 and entries[#entries] or ''
  end
end
return {gen, key, position, unpack(problems)}
