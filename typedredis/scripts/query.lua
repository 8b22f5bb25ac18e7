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

local function operand(s)
  local c = string.sub(s, 1, 1)
  if c == 'k' then return gp .. string.sub(s, 2) end
  if c == 'r' then return BASE .. 'tmp:' .. string.sub(s, 2) end
  return gp .. 'all'
end

local STORE = {I = 'SINTERSTORE', U = 'SUNIONSTORE', D = 'SDIFFSTORE'}
local scratch = {}
local function finish(result)
  unlink_all(scratch)
  return result
end

local function pks_of(members)
  for i, member in ipairs(members) do members[i] = pk_of(member) end
  return members
end

local only_range = nil -- the program is one range scan: {field, low, high}
for i = 1, nops do
  local code = ARGV[at]
  local dst = BASE .. 'tmp:' .. i
  if code == 'R' then
    local field, low, high, within = ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], ARGV[at + 4]
    at = at + 5
    local zkey = gp .. 's:' .. field
    local direct = false -- answered from the sorted index without collecting the range
    if nops == 1 and within == '' then
      only_range = {field, low, high}
      if action == 'count' then
        return redis.call('ZLEXCOUNT', zkey, low, high)
      elseif action == 'exists' then
        return #redis.call('ZRANGEBYLEX', zkey, low, high, 'LIMIT', 0, 1)
      end
      -- ARGV[at] is now the result operand and ARGV[at + 1] the order field
      direct = ARGV[at + 1] == field and (action == 'pks' or action == 'fetch' or action == 'first')
    end
    if within ~= '' then
      -- restricted to a candidate set: probe the candidates when they are fewer than the range
      local candidates = operand(within)
      local n = redis.call('SCARD', candidates)
      if n > 0 and 3 * n < redis.call('ZLEXCOUNT', zkey, low, high) then
        local probe = BASE .. 'tmp:probe'
        local batch = {}
        for _, pk in ipairs(redis.call('SMEMBERS', candidates)) do
          local sortkey = redis.call('HGET', gp .. 'o:' .. pk, '~' .. field)
          if sortkey then
            batch[#batch + 1] = 0
            batch[#batch + 1] = sortkey .. pk8(pk)
            if #batch >= 2 * CHUNK then
              redis.call('ZADD', probe, unpack(batch))
              batch = {}
            end
          end
        end
        if #batch > 0 then redis.call('ZADD', probe, unpack(batch)) end
        local found = pks_of(redis.call('ZRANGEBYLEX', probe, low, high))
        redis.call('UNLINK', probe)
        if #found > 0 then
          scratch[#scratch + 1] = dst
          call_chunked('SADD', dst, found)
        end
      elseif n > 0 then
        local found = pks_of(redis.call('ZRANGEBYLEX', zkey, low, high))
        if #found > 0 then
          scratch[#scratch + 1] = dst
          call_chunked('SADD', dst, found)
          redis.call('SINTERSTORE', dst, dst, candidates)
        end
      end
    elseif not direct then
      local found = pks_of(redis.call('ZRANGEBYLEX', zkey, low, high))
      if #found > 0 then
        scratch[#scratch + 1] = dst
        call_chunked('SADD', dst, found)
      end
    end
  else
    local n = tonumber(ARGV[at + 1])
    local keys = {}
    for j = 1, n do keys[j] = operand(ARGV[at + 1 + j]) end
    at = at + 2 + n
    if i == nops and code == 'I' and HAS_SINTERCARD and (action == 'count' or action == 'exists') then
      if action == 'exists' then
        keys[#keys + 1] = 'LIMIT'
        keys[#keys + 1] = 1
        return finish(redis.call('SINTERCARD', n, unpack(keys)))
      end
      return finish(redis.call('SINTERCARD', n, unpack(keys)))
    end
    scratch[#scratch + 1] = dst
    redis.call(STORE[code], dst, unpack(keys))
  end
end
local result = operand(ARGV[at])
local order, descending = ARGV[at + 1], ARGV[at + 2] == '1'
local offset, limit = tonumber(ARGV[at + 3]), tonumber(ARGV[at + 4])
at = at + 5

if action == 'count' then
  return finish(redis.call('SCARD', result))
elseif action == 'exists' then
  return finish(math.min(redis.call('SCARD', result), 1))
end

-- The requested page's pks, in order; nil for the whole result in no particular order.
local function page()
  if limit == 0 then return {} end -- (stop would be -1, which means "to the end")
  local stop = limit < 0 and -1 or offset + limit - 1
  if order == '' then
    if offset == 0 and limit < 0 then return nil end
    return redis.call('SORT', result, 'LIMIT', offset, limit)
  end
  local zkey = gp .. 's:' .. order
  if result == gp .. 'all' then -- the whole model: walk the sorted index directly
    return pks_of(redis.call(descending and 'ZREVRANGE' or 'ZRANGE', zkey, offset, stop))
  end
  if only_range and only_range[1] == order then -- a range of the order field itself
    local low, high = only_range[2], only_range[3]
    if descending then
      return pks_of(redis.call('ZREVRANGEBYLEX', zkey, high, low, 'LIMIT', offset, limit))
    end
    return pks_of(redis.call('ZRANGEBYLEX', zkey, low, high, 'LIMIT', offset, limit))
  end
  local n = redis.call('SCARD', result)
  if n == 0 or limit == 0 then return {} end
  local total = redis.call('ZCARD', zkey)
  local goal = limit < 0 and n or limit
  local walk = math.min(n, offset + goal) * total / n -- index entries a walk expects to visit
  if walk <= 2 * n then
    -- walk the sorted index in order, keeping the members of the result
    local out, hits, start = {}, 0, 0
    local chunk = math.max(128, math.min(4096, math.ceil(walk / 4)))
    while start < total and #out < goal do
      local members = redis.call(descending and 'ZREVRANGE' or 'ZRANGE', zkey, start, start + chunk - 1)
      start = start + chunk
      for _, member in ipairs(members) do
        local pk = pk_of(member)
        if redis.call('SISMEMBER', result, pk) == 1 then
          hits = hits + 1
          if hits > offset then
            out[#out + 1] = pk
            if #out >= goal then break end
          end
        end
      end
    end
    return out
  end
  -- sort the result by its stored sort keys in a scratch sorted set
  local sorting = BASE .. 'tmp:order'
  scratch[#scratch + 1] = sorting
  local batch = {}
  for _, pk in ipairs(redis.call('SMEMBERS', result)) do
    local sortkey = redis.call('HGET', gp .. 'o:' .. pk, '~' .. order)
    if sortkey then
      batch[#batch + 1] = 0
      batch[#batch + 1] = sortkey .. pk8(pk)
      if #batch >= 2 * CHUNK then
        redis.call('ZADD', sorting, unpack(batch))
        batch = {}
      end
    end
  end
  if #batch > 0 then redis.call('ZADD', sorting, unpack(batch)) end
  return pks_of(redis.call(descending and 'ZREVRANGE' or 'ZRANGE', sorting, offset, stop))
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
