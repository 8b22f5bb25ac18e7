-- query.lua: evaluate a set program (see typedredis/compiler.py) and act on its result, in
-- one atomic step: the caller sees one consistent state in one round trip.
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          action: count | exists | pks | fetch | first | delete | update
-- ARGV[2]          fetch, first: the msgpack array header of a row of nf values;
--                  delete, update: ni, how many of the field names are equality-indexed
-- ARGV[3]          nf: number of field names that follow
-- ARGV[4..3+nf]    fetch, first: the fields to fetch; delete, update: the ni equality-indexed
--                  fields, then the sorted ones (whose index entries must be maintained)
-- ARGV[4+nf]       nops: number of operations, then per operation either
--                  I|U|D (inter, union, diff), n, then n operands, or
--                  R, field, low, high, within: the objects whose sort key of `field` lies
--                  in the ZRANGEBYLEX bounds low..high, and ('' = no restriction) that are
--                  in the set of operand `within`
-- then             the result operand
-- then             the page: order field ('' = by pk), descending ('1' or ''), offset,
--                  limit (-1 = no limit)
-- update only:     nu, then per updated field: name, flags (letters: e equality-indexed,
--                  u unique, s sorted), msgpack value, index member ('' = the value), sort key
-- Operands: 'k<suffix>' the index set <gen>:<suffix>, 'a' all objects, 'r<i>' the result of
-- operation i (a scratch key {K}:tmp:<i>, deleted before the script returns).
-- Returns: count, exists -> integer; pks -> primary keys (page order, or any order for a
-- whole result, which the caller sorts); fetch, first -> the current generation, then per
-- object its pk and its row (header .. value1 .. value2 ..., see lib.lua); delete, update ->
-- how many objects changed; update may return {'!unique', field, member} instead (and write
-- nothing) when a unique value would be shared.
local action = ARGV[1]
local header = ARGV[2]
local nf = tonumber(ARGV[3])
local fields = {}
for i = 1, nf do fields[i] = ARGV[3 + i] end
local at = 4 + nf
local nops = tonumber(ARGV[at])
at = at + 1
local gen = current_gen()
local gp = gen_prefix(gen)

-- parse the program first: what runs depends on the page that follows it
local ops = {}
for i = 1, nops do
  local code = ARGV[at]
  if code == 'R' then
    ops[i] = {code = code, field = ARGV[at + 1], low = ARGV[at + 2], high = ARGV[at + 3], within = ARGV[at + 4]}
    at = at + 5
  else
    local n = tonumber(ARGV[at + 1])
    local refs = {}
    for j = 1, n do refs[j] = ARGV[at + 1 + j] end
    ops[i] = {code = code, refs = refs}
    at = at + 2 + n
  end
end
local result_ref = ARGV[at]
local order, descending = ARGV[at + 1], ARGV[at + 2] == '1'
local offset, limit = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
at = at + 5

local function operand(s)
  local c = string.sub(s, 1, 1)
  if c == 'k' then return gp .. string.sub(s, 2) end
  if c == 'r' then return BASE .. 'tmp:' .. string.sub(s, 2) end
  return gp .. 'all'
end

local STORE = {I = 'SINTERSTORE', U = 'SUNIONSTORE', D = 'SDIFFSTORE'}
local scratch = {}
local function finish(value)
  unlink_all(scratch)
  return value
end

local function pks_of(members)
  for i, member in ipairs(members) do members[i] = pk_of(member) end
  return members
end

-- Sort the sort keys of the objects in `set` in a scratch sorted set, and return the page of
-- those within low..high (O(n log n) for n objects in the set).
-- Copy the stored sort keys of `field` of the objects in `set` into the sorted set `zkey`
-- (members `sort key .. pk8`, all scores 0), so that ZRANGEBYLEX can order or range them.
local function sort_keys_into(zkey, set, field)
  local batch = {}
  for _, pk in ipairs(redis.call('SMEMBERS', set)) do
    local sortkey = redis.call('HGET', gp .. 'o:' .. pk, '~' .. field)
    if sortkey then
      batch[#batch + 1] = 0
      batch[#batch + 1] = sortkey .. pk8(pk)
      if #batch >= 2 * CHUNK then
        redis.call('ZADD', zkey, unpack(batch))
        batch = {}
      end
    end
  end
  if #batch > 0 then redis.call('ZADD', zkey, unpack(batch)) end
end

local function sorted_page(set, field, low, high)
  local sorting = BASE .. 'tmp:order'
  scratch[#scratch + 1] = sorting
  sort_keys_into(sorting, set, field)
  local members
  if descending then
    members = redis.call('ZREVRANGEBYLEX', sorting, high, low, 'LIMIT', offset, limit)
  else
    members = redis.call('ZRANGEBYLEX', sorting, low, high, 'LIMIT', offset, limit)
  end
  redis.call('UNLINK', sorting)
  return pks_of(members)
end

-- Walk the sorted index of `field` from low to high (high to low when descending), keeping the
-- members of `set`, until the page is complete. Gives up (returns nil) after `cap` entries, so
-- that a filter correlated with the order never costs more than about twice a sort.
local function walked_page(set, field, low, high, goal, cap, chunk)
  local zkey = gp .. 's:' .. field
  local out, hits, visited = {}, 0, 0
  while visited < cap do
    local members
    if descending then
      members = redis.call('ZREVRANGEBYLEX', zkey, high, low, 'LIMIT', 0, chunk)
    else
      members = redis.call('ZRANGEBYLEX', zkey, low, high, 'LIMIT', 0, chunk)
    end
    if #members == 0 then return out end
    if descending then high = '(' .. members[#members] else low = '(' .. members[#members] end
    visited = visited + #members
    local pks = pks_of(members)
    local flags = redis.call('SMISMEMBER', set, unpack(pks))
    for k, pk in ipairs(pks) do
      if flags[k] == 1 then
        hits = hits + 1
        if hits > offset then
          out[#out + 1] = pk
          if #out >= goal then return out end
        end
      end
    end
  end
  return nil
end

-- The page of the objects in `set` whose `field` lies in low..high, ordered by `field`:
-- walk the index when the set is dense enough, else sort the set; a walk that finds too few
-- members (the filter is correlated with the order) falls back to sorting.
local function filtered_page(set, field, low, high)
  local n = redis.call('SCARD', set)
  if n == 0 then return {} end
  local zkey = gp .. 's:' .. field
  local total = redis.call('ZCARD', zkey)
  local span = (low == '-' and high == '+') and total or redis.call('ZLEXCOUNT', zkey, low, high)
  local goal = limit < 0 and n or limit
  local expected = math.min(span, math.min(n, offset + goal) * total / n)
  if expected <= 2 * n then
    local chunk = math.max(128, math.min(4096, math.ceil(expected / 4)))
    local found = walked_page(set, field, low, high, goal, 2 * n + chunk, chunk)
    if found then return found end
  end
  return sorted_page(set, field, low, high)
end

-- run the program; a last range scan of the order field itself is not collected into a set
-- when a page is wanted: the page is walked (or sorted) within that range instead
local deferred = nil
local paged = action == 'pks' or action == 'fetch' or action == 'first'
for i, op in ipairs(ops) do
  local dst = BASE .. 'tmp:' .. i
  if op.code == 'R' then
    local zkey = gp .. 's:' .. op.field
    if nops == 1 and op.within == '' then
      if action == 'count' then
        return redis.call('ZLEXCOUNT', zkey, op.low, op.high)
      elseif action == 'exists' then
        return #redis.call('ZRANGEBYLEX', zkey, op.low, op.high, 'LIMIT', 0, 1)
      end
    end
    if i == nops and paged and op.field == order then
      deferred = op
    elseif op.within ~= '' then
      -- restricted to a candidate set: probe the candidates when they are fewer than the range
      local candidates = operand(op.within)
      local n = redis.call('SCARD', candidates)
      local found = {}
      if n > 0 and 3 * n < redis.call('ZLEXCOUNT', zkey, op.low, op.high) then
        local probe = BASE .. 'tmp:probe'
        sort_keys_into(probe, candidates, op.field)
        found = pks_of(redis.call('ZRANGEBYLEX', probe, op.low, op.high))
        redis.call('UNLINK', probe)
        if #found > 0 then
          scratch[#scratch + 1] = dst
          call_chunked('SADD', dst, found)
        end
      elseif n > 0 then
        found = pks_of(redis.call('ZRANGEBYLEX', zkey, op.low, op.high))
        if #found > 0 then
          scratch[#scratch + 1] = dst
          call_chunked('SADD', dst, found)
          redis.call('SINTERSTORE', dst, dst, candidates)
        end
      end
    else
      local found = pks_of(redis.call('ZRANGEBYLEX', zkey, op.low, op.high))
      if #found > 0 then
        scratch[#scratch + 1] = dst
        call_chunked('SADD', dst, found)
      end
    end
  else
    local keys = {}
    for j, ref in ipairs(op.refs) do keys[j] = operand(ref) end
    if i == nops and op.code == 'I' and HAS_SINTERCARD and (action == 'count' or action == 'exists') then
      if action == 'exists' then
        keys[#keys + 1] = 'LIMIT'
        keys[#keys + 1] = 1
      end
      return finish(redis.call('SINTERCARD', #op.refs, unpack(keys)))
    end
    scratch[#scratch + 1] = dst
    redis.call(STORE[op.code], dst, unpack(keys))
  end
end
local result = operand(result_ref)

if action == 'count' then
  return finish(redis.call('SCARD', result))
elseif action == 'exists' then
  return finish(math.min(redis.call('SCARD', result), 1))
end

-- The requested page's pks, in order; nil for the whole result in no particular order.
local function page()
  if limit == 0 then return {} end -- (a stop index would be -1, which means "to the end")
  if order == '' then
    if offset == 0 and limit < 0 then return nil end
    return redis.call('SORT', result, 'LIMIT', offset, limit)
  end
  local zkey = gp .. 's:' .. order
  if deferred then
    if deferred.within == '' then -- a lone range of the order field: read the page from it
      local members
      if descending then
        members = redis.call('ZREVRANGEBYLEX', zkey, deferred.high, deferred.low, 'LIMIT', offset, limit)
      else
        members = redis.call('ZRANGEBYLEX', zkey, deferred.low, deferred.high, 'LIMIT', offset, limit)
      end
      return pks_of(members)
    end
    return filtered_page(operand(deferred.within), order, deferred.low, deferred.high)
  end
  if result == gp .. 'all' then -- the whole model: read the page from the sorted index
    local stop = limit < 0 and -1 or offset + limit - 1
    return pks_of(redis.call(descending and 'ZREVRANGE' or 'ZRANGE', zkey, offset, stop))
  end
  return filtered_page(result, order, '-', '+')
end

local ni = tonumber(header) or 0
local indexed, sorted = {}, {}
for i = 1, nf do
  if i <= ni then indexed[#indexed + 1] = fields[i] else sorted[#sorted + 1] = fields[i] end
end

if action == 'delete' then
  local names = member_fields(indexed, sorted)
  local deleted = 0
  for _, pk in ipairs(redis.call('SMEMBERS', result)) do
    deleted = deleted + delete_object(gp, pk, indexed, sorted, names)
  end
  return finish(deleted)
end

if action == 'update' then
  local updates = {}
  for u = 1, tonumber(ARGV[at]) do
    local base = at + 1 + (u - 1) * 5
    local flags = ARGV[base + 1]
    updates[u] = {
      name = ARGV[base], value = ARGV[base + 2], member = ARGV[base + 3], sortkey = ARGV[base + 4],
      eq = string.find(flags, 'e', 1, true), unique = string.find(flags, 'u', 1, true),
      sorted = string.find(flags, 's', 1, true),
    }
    if updates[u].member == '' then updates[u].member = updates[u].value end
  end
  local pks = redis.call('SMEMBERS', result)
  for _, u in ipairs(updates) do
    if u.unique and #pks > 0 and u.member ~= NIL_MEMBER then
      local holders = redis.call('SMEMBERS', gp .. 'i:' .. u.name .. ':' .. u.member)
      local mine = {}
      for _, pk in ipairs(pks) do mine[pk] = true end
      local others = 0
      for _, pk in ipairs(holders) do
        if not mine[pk] then others = others + 1 end
      end
      if #pks > 1 or others > 0 then
        return finish({'!unique', u.name, u.member})
      end
    end
  end
  local names = {}
  for _, u in ipairs(updates) do
    names[#names + 1] = u.name
    names[#names + 1] = '#' .. u.name
    names[#names + 1] = '~' .. u.name
  end
  local registry = {}
  for _, pk in ipairs(pks) do
    local okey = gp .. 'o:' .. pk
    local stored = redis.call('HMGET', okey, unpack(names))
    local hset = {okey}
    for k, u in ipairs(updates) do
      hset[#hset + 1] = u.name
      hset[#hset + 1] = u.value
      if u.eq then
        local old = stored[3 * k - 1] or stored[3 * k - 2]
        if old and old ~= u.member then
          index_remove(gp, gp .. 'i:' .. u.name .. ':' .. old, pk)
        end
        local key = gp .. 'i:' .. u.name .. ':' .. u.member
        redis.call('SADD', key, pk)
        registry[key] = true
        if u.member ~= u.value then
          hset[#hset + 1] = '#' .. u.name
          hset[#hset + 1] = u.member
        elseif stored[3 * k - 1] then
          redis.call('HDEL', okey, '#' .. u.name)
        end
      end
      if u.sorted then
        local key = gp .. 's:' .. u.name
        local old = stored[3 * k]
        if old and old ~= u.sortkey then
          zindex_remove(gp, key, old .. pk8(pk))
        end
        redis.call('ZADD', key, 0, u.sortkey .. pk8(pk))
        registry[key] = true
        hset[#hset + 1] = '~' .. u.name
        hset[#hset + 1] = u.sortkey
      end
    end
    redis.call('HSET', unpack(hset))
  end
  local keys = {}
  for key in pairs(registry) do keys[#keys + 1] = key end
  if #keys > 0 then call_chunked('SADD', gp .. 'ix', keys) end
  return finish(#pks)
end

local pks = page()
if pks == nil then
  if action == 'first' then
    pks = redis.call('SORT', result, 'LIMIT', 0, 1)
  else
    pks = redis.call('SMEMBERS', result)
  end
end
if action == 'pks' then
  return finish(pks)
end
local out = {tonumber(gen)}
for _, pk in ipairs(pks) do
  out[#out + 1] = pk
  out[#out + 1] = row(header, redis.call('HMGET', gp .. 'o:' .. pk, unpack(fields)), nf)
end
return finish(out)
