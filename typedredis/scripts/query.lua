-- query.lua: run a query formula (see typedredis/compiler.py) and act on its result, in
-- calls of bounded server time. A call either answers the whole query from one consistent
-- state, or walks an index for a bounded number of entries (testing each object against the
-- formula, writing nothing) and returns a cursor for the next call. It chooses from the
-- cardinalities it reads (see choose() below and docs/explanation/query-strategies.md).
--
-- KEYS[1]          {K}:meta
-- ARGV[1]          action: count | exists | pks | fetch | delete | update, or plan:<action>,
--                  or page: fetch, and when answered by rank, also the whole result's count
-- ARGV[2]          nf: number of field names that follow
-- ARGV[3..2+nf]    fetch: the fields to fetch (none for the other actions)
-- ARGV[3+nf]       the signature of the model's indexes (lib.lua, note_indexes)
-- then             the formula in prefix form: a | k suffix | n field m members... |
--                  p m pks... | v field m sortkeys... | r field low high | i n parts... |
--                  u n parts... |
--                  d n base minus...
-- then             order field ('' = by pk), descending ('1' or ''), offset, limit (-1 = none)
-- then             generation ('' on a first call), strategy ('' on a first call; 'l' for a
--                  chunk of a listed result, below), cursor (for 'l': the write stamp)
-- then             the limits of one call: budget (the estimated server time a one-call answer
--                  may take, in the cost units below),
--                  walk (index entries a walking call visits), rows (objects fetched per
--                  call), writes (objects deleted or updated per call), sort (objects a
--                  one-call page may sort), keys (pks a call may return to be acted on
--                  in chunks)
-- then             the schema (see lib.lua, read_schema): the indexes the query may use must
--                  be recorded ready with its encodings; delete and update maintain them all
-- update only:     nu, then per updated field: name, flags (letters: e equality-indexed,
--                  u unique, s sorted), msgpack value, index member ('' = the value), sort key
--
-- Returns {generation, strategy, cursor, skip, payload}, and for page answered by rank a sixth
-- item, the whole result's count (offset and limit aside): strategy names how the call answered
-- (exact, sintercard, rank, probe, sets, none: in one call; p, o: walks, cursor '' when
-- done; keys: payload is a list of pks and cursor a chunk size, for the client to run the
-- query narrowed to chunks of them, followed by ':' and the write stamp when they are the
-- result itself; listed: such a chunk, served without a re-check),
-- skip how much of the offset is still to skip; payload: count -> the number of matches
-- seen; exists -> 0 or 1; pks -> primary keys in result order; fetch -> the rows (see
-- lib.lua, pack_rows); delete, update -> how many objects changed (update may instead return
-- {'!unique', field, member}, having written nothing). With a generation that is no longer
-- current, returns {current generation, '!gen'} and does nothing; when an index the query
-- needs is not ready in the generation (lib.lua, note_indexes), {generation, '!notready',
-- index name, its record ('' when none)} and does nothing. plan:<action> -> the
-- strategy and the estimates {matches, cost, objects} that chose it, running nothing; update of a unique field refuses
-- ({'!toolarge'}) a query too large to answer in one call.
local MANY = 2000 -- values of an in_() whose index sets are counted one by one (the client
-- sends at most 2 000 values of one in_() per query: typedredis/querying.py, VALUES_PER_CALL)
local FEW = 4 -- values of an in_() tested with SMISMEMBER each (more: by reading the object)

return guarded(function()
local action = ARGV[1]
local planning = string.sub(action, 1, 5) == 'plan:'
if planning then action = string.sub(action, 6) end
local counted = action == 'page' -- (a rank answer's count is its span: no further read)
if counted then action = 'fetch' end
local nf = tonumber(ARGV[2])
local fields = {}
for i = 1, nf do fields[i] = ARGV[2 + i] end
local signature = ARGV[3 + nf]
local at = 4 + nf

local meta = redis.call('HMGET', META, 'gen', 'n')
local gen, stamp = meta[1] or '0', meta[2] or '0' -- (stamp: lib.lua, stamp_written)
local gp = gen_prefix(gen)
local ALL = gp .. 'all'
-- Every index is ready when the generation's ':w' holds this schema's signature, or the same
-- signature as a writer of an older release (before the write stamp: '1|') stored it; the write
-- stamp can be trusted only under this code's own (lib.lua, stamp_written).
local written = redis.call('HGET', gp .. 'schema', ':w')
local stamped = written == signature
local trusted = stamped or written == '1|' .. string.sub(signature, 3)
local records = nil -- the generation's index records (lib.lua, note_indexes), read once
local needs = {} -- the single-field indexes the formula and the order use: record name -> true
local function recorded()
  if not records then records = index_records(gp) end
  return records
end

local function parse()
  local code = ARGV[at]
  at = at + 1
  if code == 'a' then return {kind = 'a'} end
  if code == 'k' then
    at = at + 1
    local suffix = ARGV[at - 1]
    local field = string.match(suffix, '^i:([^:]+):')
    if field then needs['e:' .. field] = true end -- (a compound's set: c:<name>:...)
    return {kind = 'k', suffix = suffix}
  end
  if code == 'n' then
    local m = tonumber(ARGV[at + 1])
    local node = {kind = 'n', field = ARGV[at], members = {}}
    needs['e:' .. node.field] = true
    for j = 1, m do node.members[j] = ARGV[at + 1 + j] end
    at = at + 2 + m
    return node
  end
  if code == 'v' then
    local m = tonumber(ARGV[at + 1])
    local node = {kind = 'v', field = ARGV[at], keys = {}}
    needs['s:' .. node.field] = true
    for j = 1, m do node.keys[j] = ARGV[at + 1 + j] end
    at = at + 2 + m
    return node
  end
  if code == 'p' then
    local m = tonumber(ARGV[at])
    local node = {kind = 'p', pks = {}}
    for j = 1, m do node.pks[j] = ARGV[at + j] end
    at = at + 1 + m
    return node
  end
  if code == 'r' then
    at = at + 3
    local field = ARGV[at - 3]
    needs['s:' .. field] = true
    return {kind = 'r', field = field, zkey = gp .. 's:' .. field, low = ARGV[at - 2], high = ARGV[at - 1]}
  end
  if code == 'z' then -- a range of a compound index's sorted set
    at = at + 4
    needs['s:' .. ARGV[at - 4]] = true -- its sort keys are the field's
    return {kind = 'r', field = ARGV[at - 4], zkey = gp .. ARGV[at - 3], low = ARGV[at - 2], high = ARGV[at - 1]}
  end
  if code == 'c' then -- a compound index, if complete in this generation, else what it stands for
    local name = ARGV[at]
    at = at + 1
    local index = parse()
    local fallback = parse()
    if not trusted and recorded()[name] ~= 'ready' then return fallback end
    index.fallback = fallback -- tests an object exactly (the index alone cannot)
    return index
  end
  local count = tonumber(ARGV[at])
  at = at + 1
  local node = {kind = code, parts = {}}
  for j = 1, count do node.parts[j] = parse() end
  return node
end

local formula = parse()
local order, descending = ARGV[at], ARGV[at + 1] == '1'
local offset, limit = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
local pinned, strategy, cursor = ARGV[at + 4], ARGV[at + 5], ARGV[at + 6]
if pinned ~= '' and pinned ~= gen then return {gen, '!gen'} end
-- the limits of one call (see typedredis/querying.py, Limits)
local BUDGET, WALK, ROWS = tonumber(ARGV[at + 7]), tonumber(ARGV[at + 8]), tonumber(ARGV[at + 9])
local WRITES, SORT, KEYS = tonumber(ARGV[at + 10]), tonumber(ARGV[at + 11]), tonumber(ARGV[at + 12])
at = at + 13


local schema -- (read only where used: a read of trusted indexes needs none of it)
if action == 'delete' or action == 'update' or not trusted then schema, at = read_schema(at) end
if order ~= '' then needs['s:' .. order] = true end
if not trusted and recorded()[':v'] then -- (without records: served as an older typedredis left it)
  for name in pairs(needs) do
    local want = 'ready:' .. (schema.encoding[name] or '?')
    if records[name] ~= want then return {gen, '!notready', name, records[name] or ''} end
  end
end

-- -- estimates ------------------------------------------------------------------------------

local function set_key(node) return gp .. node.suffix end
local function member_key(field, member) return gp .. 'i:' .. field .. ':' .. member end
local function zkey_of(field) return gp .. 's:' .. field end

local total_cache
local function total()
  if not total_cache then total_cache = redis.call('ZCARD', ALL) end
  return total_cache
end

-- An upper bound of how many objects a node holds (exact for a, k, r, and small n).
local function card(node)
  if node.card then return node.card end
  local kind, c = node.kind, 0
  if kind == 'a' then
    c = total()
  elseif kind == 'k' then
    c = redis.call('SCARD', set_key(node))
  elseif kind == 'n' then
    if #node.members <= MANY then
      for _, m in ipairs(node.members) do c = c + redis.call('SCARD', member_key(node.field, m)) end
    else
      c = total()
      node.vague = true
    end
  elseif kind == 'r' then
    c = redis.call('ZLEXCOUNT', node.zkey, node.low, node.high)
  elseif kind == 'p' then
    c = #node.pks
  elseif kind == 'v' then
    if #node.keys <= MANY then
      for _, k in ipairs(node.keys) do
        c = c + redis.call('ZLEXCOUNT', zkey_of(node.field), '[' .. k, '[' .. k .. AFTER_PK)
      end
    else
      c = total()
      node.vague = true
    end
  elseif kind == 'i' then
    c = math.huge
    for _, p in ipairs(node.parts) do c = math.min(c, card(p)) end
  elseif kind == 'u' then
    for _, p in ipairs(node.parts) do c = c + card(p) end
    c = math.min(c, total())
  else -- d
    c = card(node.parts[1])
  end
  node.card = c
  return c
end

-- The exact number of objects of a node, where arithmetic gives it cheaply; else nil.
local function exact(node)
  local kind = node.kind
  if kind == 'a' or kind == 'k' or kind == 'r' then return card(node) end
  if kind == 'n' or kind == 'v' then
    card(node)
    if node.vague then return nil end
    return node.card
  end
  if kind == 'd' and node.parts[1].kind == 'a' and #node.parts == 2 then
    local minus = exact(node.parts[2]) -- ~x: every object but x (x is a subset of all)
    if minus then return total() - minus end
  end
  return nil
end

-- The index sets of an intersection that one SINTERCARD counts within the budget; else nil.
local function sintercard_keys()
  if formula.kind ~= 'i' or not HAS_SINTERCARD or #formula.parts > CHUNK then return nil end
  local keys, smallest = {}, math.huge
  for _, p in ipairs(formula.parts) do
    if p.kind ~= 'k' then return nil end
    keys[#keys + 1] = set_key(p)
    smallest = math.min(smallest, card(p))
  end
  if smallest * #keys > BUDGET then return nil end
  return keys
end

-- -- ranks: pages of a sorted set by position, O(log N) whatever the offset ----------------

-- The ranks (0-based, inclusive) of the members of zkey within bounds low..high.
local function rank_span(zkey, low, high)
  local first = 0
  if low ~= '-' then
    local bound = string.sub(low, 2)
    first = redis.call('ZLEXCOUNT', zkey, '-', (string.sub(low, 1, 1) == '[' and '(' or '[') .. bound)
  end
  local last = redis.call('ZCARD', zkey) - 1
  if high ~= '+' then
    last = redis.call('ZLEXCOUNT', zkey, '-', high) - 1
  end
  return first, last
end

-- The page (offset, limit) of the members within low..high, in order or reversed, and how
-- many members lie within the bounds.
local function rank_page(zkey, low, high)
  local first, last = rank_span(zkey, low, high)
  local inside = math.max(0, last - first + 1)
  local count = limit < 0 and (last - first + 1) or limit
  local start, stop
  if descending then
    stop = last - offset
    start = math.max(first, stop - count + 1)
  else
    start = first + offset
    stop = math.min(last, start + count - 1)
  end
  if stop < start then return {}, inside end
  local members = redis.call('ZRANGE', zkey, int_string(start), int_string(stop))
  if descending then
    local n = #members
    for i = 1, math.floor(n / 2) do members[i], members[n + 1 - i] = members[n + 1 - i], members[i] end
  end
  return members, inside
end

-- The pks of sorted-set members (sort key .. pk8), in place.
local function pks_of(members)
  for i, member in ipairs(members) do members[i] = pk_of(member) end
  return members
end

-- The sorted set, and the bounds within it, whose ranks give this page (a first call of a
-- fetch or pks with a limit within ROWS: every object, or a range of the order's field); nil.
local function by_rank()
  if limit < 0 or limit > ROWS or (action ~= 'pks' and action ~= 'fetch') then return nil end
  local kind = formula.kind
  if kind == 'a' and order == '' then return ALL, '-', '+' end
  if order ~= '' and kind == 'a' then return zkey_of(order), '-', '+' end
  if order ~= '' and kind == 'r' and formula.field == order then
    return formula.zkey, formula.low, formula.high
  end
  return nil
end

-- The answers that take no scratch key and no walk are given here, before the rest of this
-- file's functions are made: every call makes them anew (~10-20 us of a call's server time),
-- and the garbage they leave measurably slows a large SINTERCARD run after them. choose()
-- names the same strategies (exact, sintercard, rank) for explain() and plan().
--
-- A chunk of a result that a first call listed ('keys' with a stamp, below) comes as strategy
-- 'l', its pks first in the formula and the stamp as cursor: while the write stamp is the same
-- (no object changed since, lib.lua) and this code's writers wrote last (stamped), they are still
-- the result's, and their rows are read without testing the condition again ('listed').
-- Otherwise the chunk is a first call like any other.
if strategy == 'l' then
  local listed = formula.kind == 'i' and formula.parts[1].kind == 'p' and formula.parts[1].pks
  if listed and stamped and cursor == stamp and action == 'fetch' and not planning then
    return {gen, 'listed', '', 0, pack_rows(gp, listed, fields)}
  end
  strategy, cursor = '', ''
end
if strategy == '' and not planning then
  if action == 'count' or action == 'exists' then
    local n = exact(formula)
    if n then return {gen, 'exact', '', 0, action == 'exists' and math.min(n, 1) or n} end
    local keys = sintercard_keys()
    if keys then
      if action == 'exists' then
        keys[#keys + 1] = 'LIMIT'
        keys[#keys + 1] = 1
      end
      return {gen, 'sintercard', '', 0, redis.call('SINTERCARD', #formula.parts, unpack(keys))}
    end
  end
  local zkey, low, high = nil, nil, nil -- (a limit of 0 answers nothing: choose() says 'none')
  if limit ~= 0 then zkey, low, high = by_rank() end
  if zkey then
    local pks, inside
    if zkey == ALL then
      pks = redis.call('ZRANGE', ALL, int_string(offset), int_string(offset + limit - 1))
    else
      local members
      members, inside = rank_page(zkey, low, high)
      pks = pks_of(members)
    end
    local count = counted and (formula.kind == 'a' and total() or inside) or nil -- (page: all of it)
    return {gen, 'rank', '', 0, action == 'pks' and pks or pack_rows(gp, pks, fields), count}
  end
end

-- Costs are in units of about a microsecond of server time (measured on Redis 7.0; see
-- docs/explanation/query-strategies.md), so that BUDGET bounds a call's time.
local SET_OP = 0.5 -- one element through SINTERSTORE, SUNIONSTORE, SDIFFSTORE or SMISMEMBER
local RANGE_OP = 1.5 -- one member of a range collected into a scratch set
local READ_OP = 8 -- one object's stored field read (HGET) and tested in Lua
local WALK_OP = 3 -- one entry of an index walked (read and its pk decoded)
local CALL_OP = 20 -- one more command of a call (per value of an in_() of a Sorted field)
local SORT_OP = 6 -- one object's sort key read and added to a scratch sorted set

-- The cost of evaluating a node into a scratch set in one call (math.huge: not that way).
local function cost(node)
  local kind = node.kind
  if kind == 'a' then return total() end -- copied into a scratch set
  if kind == 'k' then return 0 end
  if kind == 'n' or kind == 'r' or kind == 'p' or kind == 'v' then
    card(node)
    if node.vague then return math.huge end
    if kind == 'v' then return #node.keys * CALL_OP + node.card * RANGE_OP end -- a range per value
    return node.card * (kind == 'n' and SET_OP or RANGE_OP)
  end
  local c = 0
  if kind == 'i' then
    local smallest, sets = math.huge, 0
    for _, p in ipairs(node.parts) do
      if p.kind ~= 'r' then
        sets = sets + 1
        c = c + cost(p)
        smallest = math.min(smallest, card(p))
      end
    end
    if sets == 0 then smallest = 0 end -- only ranges: the first one is collected
    c = c + smallest * sets * SET_OP
    for _, p in ipairs(node.parts) do
      if p.kind == 'r' then
        local n = card(p)
        local probing, scanning = SORT_OP * smallest, (RANGE_OP + SET_OP) * n
        c = c + ((smallest > 0 and probing < scanning) and probing or scanning)
        if smallest == 0 then smallest = n end
      end
    end
    return c
  end
  for _, p in ipairs(node.parts) do c = c + cost(p) + card(p) * SET_OP end
  return c
end

-- The cost of testing one candidate against a node (see filter below).
local function test_cost(node)
  if node.fallback then return test_cost(node.fallback) end
  local kind = node.kind
  if kind == 'a' then return 0 end
  if kind == 'k' then return SET_OP end
  if kind == 'p' then return 0.2 end
  if kind == 'n' then return #node.members <= FEW and SET_OP * #node.members or READ_OP end
  if kind == 'r' or kind == 'v' then return READ_OP end
  local c = 0
  for _, p in ipairs(node.parts) do c = c + test_cost(p) end
  return c
end

-- -- one-call evaluation into scratch sets ---------------------------------------------------

local registers = 0
local function register()
  registers = registers + 1
  return scratch(tostring(registers))
end

-- `command dst k1 k2 ...` over any number of keys (dst folded into later chunks).
local function store_chunked(command, dst, keys)
  redis.call(command, dst, unpack(keys, 1, math.min(CHUNK, #keys)))
  for i = CHUNK + 1, #keys, CHUNK do
    redis.call(command, dst, dst, unpack(keys, i, math.min(i + CHUNK - 1, #keys)))
  end
end

-- Copy the stored sort keys of `field` of the objects `pks` into the sorted set `zkey`
-- (members `sort key .. pk8`, all scores 0), so that ZRANGEBYLEX can order or range them.
local function sort_keys_into(zkey, pks, field)
  local batch = {}
  for _, pk in ipairs(pks) do
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

local materialize
local function range_within(node, base)
  local dst = register()
  local n = redis.call('SCARD', base)
  if n == 0 then return dst end
  if node.fallback and 3 * n < card(node) then -- a compound's range: test the candidates exactly
    local found = filter(node.fallback, redis.call('SMEMBERS', base))
    if #found > 0 then call_chunked('SADD', dst, found) end
  elseif 3 * n < card(node) then -- probe: sort the candidates' own sort keys, take the range
    local probe = scratch('probe')
    sort_keys_into(probe, redis.call('SMEMBERS', base), node.field)
    local found = pks_of(redis.call('ZRANGEBYLEX', probe, node.low, node.high))
    redis.call('DEL', probe)
    if #found > 0 then call_chunked('SADD', dst, found) end
  else
    local found = pks_of(redis.call('ZRANGEBYLEX', node.zkey, node.low, node.high))
    if #found > 0 then
      call_chunked('SADD', dst, found)
      redis.call('SINTERSTORE', dst, dst, base)
    end
  end
  return dst
end

-- The name of a set holding the node's objects (an index set itself, or a scratch set).
materialize = function(node)
  local kind = node.kind
  if kind == 'k' then return set_key(node) end
  if kind == 'a' then -- `all` is a sorted set: copy it into a set the set commands accept
    local dst = register()
    for start = 0, total() - 1, CHUNK do
      local pks = redis.call('ZRANGE', ALL, start, start + CHUNK - 1)
      if #pks > 0 then redis.call('SADD', dst, unpack(pks)) end
    end
    return dst
  end
  if kind == 'n' then
    local keys = {}
    for j, m in ipairs(node.members) do keys[j] = member_key(node.field, m) end
    local dst = register()
    store_chunked('SUNIONSTORE', dst, keys)
    return dst
  end
  if kind == 'r' then
    local dst = register()
    local found = pks_of(redis.call('ZRANGEBYLEX', node.zkey, node.low, node.high))
    if #found > 0 then call_chunked('SADD', dst, found) end
    return dst
  end
  if kind == 'p' then
    local dst = register()
    if #node.pks > 0 then call_chunked('SADD', dst, node.pks) end
    return dst
  end
  if kind == 'v' then
    local dst = register()
    for _, k in ipairs(node.keys) do
      local found = pks_of(redis.call('ZRANGEBYLEX', zkey_of(node.field), '[' .. k, '[' .. k .. AFTER_PK))
      if #found > 0 then call_chunked('SADD', dst, found) end
    end
    return dst
  end
  if kind == 'i' then
    local keys, ranges = {}, {}
    for _, p in ipairs(node.parts) do
      if p.kind == 'r' then ranges[#ranges + 1] = p else keys[#keys + 1] = materialize(p) end
    end
    local base
    if #keys == 1 then
      base = keys[1]
    elseif #keys > 1 then
      base = register()
      store_chunked('SINTERSTORE', base, keys)
    end
    for _, r in ipairs(ranges) do
      base = base and range_within(r, base) or materialize(r)
    end
    return base
  end
  local keys = {}
  for j, p in ipairs(node.parts) do keys[j] = materialize(p) end
  local dst = register()
  store_chunked(kind == 'u' and 'SUNIONSTORE' or 'SDIFFSTORE', dst, keys)
  return dst
end

-- -- walking: test candidates against the formula, without writing anything ---------------

local function member_set(node)
  if not node.lookup then
    node.lookup = {}
    for _, m in ipairs(node.members) do node.lookup[m] = true end
  end
  return node.lookup
end

local function keep_flagged(pks, flags, out)
  for i, pk in ipairs(pks) do
    if flags[i] == 1 then out[#out + 1] = pk end
  end
end

local function smismember(key, pks)
  local out = {}
  for i = 1, #pks, CHUNK do
    local part = {unpack(pks, i, math.min(i + CHUNK - 1, #pks))}
    keep_flagged(part, redis.call('SMISMEMBER', key, unpack(part)), out)
  end
  return out
end

-- The candidates (pks, in order) that match the node.
local function filter(node, pks)
  if #pks == 0 then return pks end
  local kind = node.kind
  if kind == 'a' then return pks end
  if kind == 'k' then return smismember(set_key(node), pks) end
  if kind == 'p' then
    if not node.lookup then
      node.lookup = {}
      for _, pk in ipairs(node.pks) do node.lookup[pk] = true end
    end
    local out = {}
    for _, pk in ipairs(pks) do if node.lookup[pk] then out[#out + 1] = pk end end
    return out
  end
  if kind == 'v' then -- read each candidate's sort key
    local lookup, out = {}, {}
    for _, k in ipairs(node.keys) do lookup[k] = true end
    for _, pk in ipairs(pks) do
      local sortkey = redis.call('HGET', gp .. 'o:' .. pk, '~' .. node.field)
      if sortkey and lookup[sortkey] then out[#out + 1] = pk end
    end
    return out
  end
  if kind == 'n' and #node.members <= FEW then
    local hits = {}
    for _, m in ipairs(node.members) do
      for _, pk in ipairs(smismember(member_key(node.field, m), pks)) do hits[pk] = true end
    end
    local out = {}
    for _, pk in ipairs(pks) do if hits[pk] then out[#out + 1] = pk end end
    return out
  end
  if kind == 'n' then -- many values: read each candidate's index member
    local lookup, out = member_set(node), {}
    for _, pk in ipairs(pks) do
      local v = redis.call('HMGET', gp .. 'o:' .. pk, node.field, '#' .. node.field)
      local member = v[2] or v[1]
      if member and lookup[member] then out[#out + 1] = pk end
    end
    return out
  end
  if node.fallback then return filter(node.fallback, pks) end -- a compound index
  if kind == 'r' then
    local out = {}
    if card(node) <= math.max(#pks, WALK) then -- a small range: its pks, once per call
      if not node.lookup then
        node.lookup = {}
        for _, member in ipairs(redis.call('ZRANGEBYLEX', node.zkey, node.low, node.high)) do
          node.lookup[pk_of(member)] = true
        end
      end
      for _, pk in ipairs(pks) do if node.lookup[pk] then out[#out + 1] = pk end end
      return out
    end
    for _, pk in ipairs(pks) do
      local sortkey = redis.call('HGET', gp .. 'o:' .. pk, '~' .. node.field)
      if sortkey and within(sortkey .. pk8(pk), node.low, node.high) then out[#out + 1] = pk end
    end
    return out
  end
  if kind == 'i' then
    local parts = {}
    for j, p in ipairs(node.parts) do parts[j] = p end
    table.sort(parts, function(a, b) return card(a) < card(b) end)
    local out = pks
    for _, p in ipairs(parts) do
      out = filter(p, out)
      if #out == 0 then break end
    end
    return out
  end
  if kind == 'u' then
    local hit, rest = {}, pks
    for _, p in ipairs(node.parts) do
      for _, pk in ipairs(filter(p, rest)) do hit[pk] = true end
      local left = {}
      for _, pk in ipairs(rest) do if not hit[pk] then left[#left + 1] = pk end end
      rest = left
      if #rest == 0 then break end
    end
    local out = {}
    for _, pk in ipairs(pks) do if hit[pk] then out[#out + 1] = pk end end
    return out
  end
  local out = filter(node.parts[1], pks) -- d
  for j = 2, #node.parts do
    if #out == 0 then break end
    local gone = {}
    for _, pk in ipairs(filter(node.parts[j], out)) do gone[pk] = true end
    local left = {}
    for _, pk in ipairs(out) do if not gone[pk] then left[#left + 1] = pk end end
    out = left
  end
  return out
end

-- -- acting on pks -----------------------------------------------------------------------

local function delete_pks(pks)
  return delete_objects(gp, schema, pks)
end

local updates = {}
if action == 'update' then
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
end

-- Refuse (return the violation) an update that would make a unique value shared.
local function unique_violation(pks)
  for _, u in ipairs(updates) do
    if u.unique and #pks > 0 and u.member ~= NIL_MEMBER then
      local mine = {}
      for _, pk in ipairs(pks) do mine[pk] = true end
      local others = 0
      for _, pk in ipairs(redis.call('SMEMBERS', member_key(u.name, u.member))) do
        if not mine[pk] then others = others + 1 end
      end
      if #pks > 1 or others > 0 then return {'!unique', u.name, u.member} end
    end
  end
  return nil
end

local eq_position, sorted_position = {}, {}
if action == 'update' then
  for i, f in ipairs(schema.eq) do eq_position[f] = i end
  for j, f in ipairs(schema.sorted) do sorted_position[f] = j end
end

local function update_pks(pks)
  if #pks > 0 then stamp_written() else refuse_when_full() end -- (either refuses on a full memory)
  note_indexes(gp, schema)
  local batch, changed = changes(), 0
  for _, pk in ipairs(pks) do
    local okey = gp .. 'o:' .. pk
    if redis.call('EXISTS', okey) == 1 then
      changed = changed + 1
      local old = read_state(gp, schema, pk)
      local new = {eq = {unpack(old.eq)}, sorted = {unpack(old.sorted)}}
      local hset, hdel = {okey}, {}
      for _, u in ipairs(updates) do
        hset[#hset + 1] = u.name
        hset[#hset + 1] = u.value
        local i, j = eq_position[u.name], sorted_position[u.name]
        if i then
          new.eq[i] = u.member
          if u.member ~= u.value then
            hset[#hset + 1] = '#' .. u.name
            hset[#hset + 1] = u.member
          else
            hdel[#hdel + 1] = '#' .. u.name
          end
        end
        if j then
          new.sorted[j] = u.sortkey
          hset[#hset + 1] = '~' .. u.name
          hset[#hset + 1] = u.sortkey
        end
      end
      change(batch, gp, schema, pk, old, new)
      if #hdel > 0 then redis.call('HDEL', okey, unpack(hdel)) end
      redis.call('HSET', unpack(hset))
    end
  end
  apply_changes(gp, batch)
  return changed
end

local function unique_update()
  for _, u in ipairs(updates) do if u.unique then return true end end
  return false
end

-- The payload of a complete answer for the pks of a result (in result order).
local function answer(pks)
  if action == 'pks' then return pks end
  if action == 'fetch' then return pack_rows(gp, pks, fields) end
  if action == 'delete' then return delete_pks(pks) end
  local refused = unique_violation(pks)
  if refused then return refused end
  return update_pks(pks)
end

local function done(payload) return {gen, 'x', '', 0, payload} end

local function page_of(list)
  local first = offset + 1
  local last = limit < 0 and #list or math.min(#list, offset + limit)
  local out = {}
  for i = first, last do out[#out + 1] = list[i] end
  return out
end

-- -- the walks (multi-call) --------------------------------------------------------------

-- The walk's index, bounds and filter: pk order over `all`, or the order field's index
-- within the formula's range of that field.
local function walk_plan()
  if order == '' then return 'p', ALL, '-inf', '+inf', formula end
  local zkey, low, high, rest = zkey_of(order), '-', '+', formula
  if formula.kind == 'r' and formula.field == order then -- (a compound's range walks its own index)
    zkey, low, high, rest = formula.zkey, formula.low, formula.high, {kind = 'a'}
  elseif formula.kind == 'i' then
    for j, p in ipairs(formula.parts) do
      if p.kind == 'r' and p.field == order then
        zkey, low, high = p.zkey, p.low, p.high
        local parts = {}
        for k, q in ipairs(formula.parts) do if k ~= j then parts[#parts + 1] = q end end
        rest = #parts == 1 and parts[1] or {kind = 'i', parts = parts}
        break
      end
    end
  end
  return 'o', zkey, low, high, rest
end

local function walk()
  local kind, zkey, low, high, rest = walk_plan()
  local from = cursor
  if kind == 'p' then
    if from == '' then from = low end
  elseif from == '' then
    from = descending and high or low
  end
  -- as many entries as the budget allows testing (each also costs about a unit to read)
  local step = math.max(1, math.min(WALK, math.floor(BUDGET / (WALK_OP + test_cost(rest)))))
  local entries
  if kind == 'p' then
    entries = redis.call('ZRANGEBYSCORE', ALL, from, high, 'LIMIT', 0, step)
  elseif descending then
    entries = redis.call('ZREVRANGEBYLEX', zkey, from, low, 'LIMIT', 0, step)
  else
    entries = redis.call('ZRANGEBYLEX', zkey, from, high, 'LIMIT', 0, step)
  end
  local pks = {}
  for i, e in ipairs(entries) do pks[i] = kind == 'p' and e or pk_of(e) end
  local matched = filter(rest, pks)
  local position = {}
  for i, pk in ipairs(pks) do position[pk] = i end
  local function next_cursor(i) -- resume after entry i
    if i >= #entries and #entries < step then return '' end
    return '(' .. entries[i]
  end
  if action == 'count' then return {gen, kind, next_cursor(#entries), 0, #matched} end
  if action == 'exists' then
    if #matched > 0 then return {gen, kind, '', 0, 1} end
    return {gen, kind, next_cursor(#entries), 0, 0}
  end
  local skip = offset
  local picked = {}
  local cap = (action == 'delete' or action == 'update') and WRITES or ROWS
  if limit >= 0 then cap = math.min(cap, limit) end
  local last = #entries
  for _, pk in ipairs(matched) do
    if skip > 0 then
      skip = skip - 1
    elseif #picked < cap then
      picked[#picked + 1] = pk
      if #picked == cap then
        last = position[pk]
        break
      end
    end
  end
  local resume = next_cursor(last)
  if limit >= 0 and #picked >= limit then resume = '' end
  if action == 'update' and unique_update() then return {gen, kind, '', 0, {'!toolarge'}} end
  return {gen, kind, resume, skip, answer(picked)}
end

-- -- choosing the strategy -------------------------------------------------------------------

local function whole() return order == '' and offset == 0 and limit < 0 end

-- {gen, 'keys', chunk, 0, pks}: the client runs the query narrowed to chunks of `chunk` of
-- these pks, pipelined (each call re-checks the condition on its chunk and acts atomically).
-- The pks are in result order, or in any order for a whole unordered result (the client
-- sorts them by pk). When they are the result of a read, and this code's writers wrote last
-- (stamped), the chunk is 'chunk:stamp': a chunk call then skips the re-check while no object
-- changed (strategy 'l', above).
local function keys(pks, chunk, result)
  local size = tostring(math.max(1, math.floor(chunk)))
  if result and stamped and action == 'fetch' then size = size .. ':' .. stamp end
  return {gen, 'keys', size, 0, pks}
end

-- The whole answer from the result's pks (any order), or nil when it is too large for one
-- call (the caller then walks). When the objects to fetch, delete or update are too many
-- for one call, the answer is their pks ('keys').
local function from_list(pks)
  local n = #pks
  if action == 'count' then return done(n) end
  if action == 'exists' then return done(math.min(n, 1)) end
  if action == 'update' then -- before any split: a unique value can go to one object only
    local refused = unique_violation(pks)
    if refused then return done(refused) end
  end
  local writing = action == 'delete' or action == 'update'
  local cap = writing and WRITES or ROWS
  if whole() then -- in any order: the client sorts a whole result by pk
    if n <= cap then return done(answer(pks)) end
    if n > KEYS then return nil end
    if action == 'pks' then return done(answer(pks)) end
    return keys(pks, cap, true)
  end
  if n > SORT then return nil end
  local ordered
  if order == '' then
    local numbers = {}
    for i, pk in ipairs(pks) do numbers[i] = tonumber(pk) end
    table.sort(numbers)
    ordered = {}
    for i, number in ipairs(numbers) do ordered[i] = int_string(number) end
  else
    local sorting = scratch('order')
    sort_keys_into(sorting, pks, order)
    local members = descending and redis.call('ZREVRANGE', sorting, 0, -1) or redis.call('ZRANGE', sorting, 0, -1)
    redis.call('DEL', sorting)
    ordered = pks_of(members)
  end
  local list = page_of(ordered)
  if #list > cap and action ~= 'pks' then return keys(list, cap, true) end
  return done(answer(list))
end

local function from_sets()
  local result = materialize(formula)
  local n = redis.call('SCARD', result)
  if action == 'count' then return done(n) end
  if action == 'exists' then return done(math.min(n, 1)) end
  if n > (whole() and KEYS or SORT) then return nil end
  return from_list(redis.call('SMEMBERS', result))
end

-- -- probing: list the members of a small part, test each against the whole formula -------

local function enumerable(node)
  local kind = node.kind
  return kind == 'k' or kind == 'p' or kind == 'r' or (kind == 'n' and #node.members <= MANY)
end

-- The smallest part whose members can be listed and that holds every match; nil if none.
local function probe_source()
  local best
  local candidates = {}
  if formula.kind == 'i' then
    candidates = formula.parts
  elseif formula.kind == 'd' then
    candidates = {formula.parts[1]}
  else
    candidates = {formula}
  end
  for _, p in ipairs(candidates) do
    if enumerable(p) and (not best or card(p) < card(best)) then best = p end
  end
  return best
end

local function probe_cost()
  local source = probe_source()
  if not source then return math.huge end
  return card(source) * test_cost(formula)
end

local function members_of(node)
  if node.kind == 'k' then return redis.call('SMEMBERS', set_key(node)) end
  if node.kind == 'p' then return node.pks end
  if node.kind == 'r' then return pks_of(redis.call('ZRANGEBYLEX', node.zkey, node.low, node.high)) end
  local out = {}
  for _, m in ipairs(node.members) do
    for _, pk in ipairs(redis.call('SMEMBERS', member_key(node.field, m))) do out[#out + 1] = pk end
  end
  return out
end

local function from_probe()
  return from_list(filter(formula, members_of(probe_source())))
end

-- Candidates too many to test in one call, but few enough to list: the client tests them in
-- chunks that fit the budget (a walk of just these objects).
local function from_candidates()
  local candidates = members_of(probe_source())
  if action == 'update' and unique_update() and #candidates > 1 then return nil end -- checked whole
  return keys(candidates, BUDGET / math.max(test_cost(formula), 0.1))
end

-- How this call answers (first calls): none | exact | sintercard | rank | probe | sets | p | o.
local function choose()
  local counting = action == 'count' or action == 'exists'
  if limit == 0 and not counting then return 'none' end
  if counting and exact(formula) then return 'exact' end
  if counting and sintercard_keys() then return 'sintercard' end
  if by_rank() then return 'rank' end
  local source = probe_source()
  if source and source.kind == 'p' then return 'probe' end -- a chunk the client sized
  if not counting then -- a result known to be too large to list is walked at once
    local known = exact(formula)
    if known and known > (whole() and KEYS or SORT) then return (walk_plan()) end
  end
  local probing, sets = probe_cost(), cost(formula)
  if probing <= BUDGET and probing <= sets then return 'probe' end
  if sets <= BUDGET then return 'sets' end
  if source and card(source) <= KEYS and (counting or whole()) then return 'candidates' end
  return (walk_plan())
end

local function first_call(how) -- (exact, sintercard and rank were answered above)
  if how == 'none' then return done(answer({})) end
  if how == 'candidates' then return from_candidates() end
  if how == 'sets' or how == 'probe' then
    local ok, result = pcall(how == 'sets' and from_sets or from_probe)
    if ok and result then return result end
    if not ok and not string.find(error_text(result), 'OOM', 1, true) then error(result) end
    drop_scratch() -- too large for one call, or no memory for scratch sets: walk, reading only
  end
  return nil
end

if planning then
  local how = choose()
  local c = how == 'probe' and probe_cost() or cost(formula)
  return {gen, how, '', 0, {exact(formula) or card(formula), c == math.huge and -1 or c, total()}}
end

if strategy == '' then
  local how = choose()
  local result = first_call(how)
  if result then
    if result[2] == 'x' then result[2] = how end
    return result
  end
  if action == 'update' and unique_update() then return {gen, how, '', 0, {'!toolarge'}} end
  -- a deep offset of a whole ordered index: start the walk at the offset's rank
  if order ~= '' and offset > 0 then
    local _, zkey, low, high, rest = walk_plan()
    if rest.kind == 'a' then
      local first, last = rank_span(zkey, low, high)
      if offset > last - first then return {gen, 'o', '', 0, answer({})} end
      local rank = descending and (last - offset) or (first + offset)
      cursor = '[' .. redis.call('ZRANGE', zkey, int_string(rank), int_string(rank))[1] -- the page's first
      offset = 0
    end
  end
end
return walk()
end)
