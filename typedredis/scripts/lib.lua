-- lib.lua: helpers prepended to every other script when it is loaded (one source, one SHA).
--
-- Every script receives KEYS[1] = "{K}:meta", the model's metadata hash. All other key names
-- are built from it (see typedredis/keys.py for the layout) and share its hash tag {K}, so
-- they live in KEYS[1]'s cluster slot.
local META = KEYS[1]
local BASE = string.sub(META, 1, -5) -- "{K}:"
local HAS_SINTERCARD = (redis.REDIS_VERSION_NUM or 0) >= 0x070000
local CHUNK = 1000 -- stay far below Lua's limit on unpack() arguments
local NIL_MEMBER = '\192' -- the index member of None (msgpack nil): exempt from uniqueness
local MAX_PK = 9007199254740991 -- 2^53 - 1: the largest pk Lua's numbers hold exactly
local AFTER_PK = string.rep('\255', 8) -- above every pk suffix of a sort key (sortkeys.py)

-- A whole number as its exact decimal string (tostring and .. use %.14g: 1e+14).
local function int_string(n)
  return string.format('%.0f', n)
end

local function current_gen()
  return redis.call('HGET', META, 'gen') or '0'
end

local function gen_prefix(gen)
  return BASE .. gen .. ':'
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Run `cmd key <items...>` in chunks.
local function call_chunked(cmd, key, items)
  for i = 1, #items, CHUNK do
    redis.call(cmd, key, unpack(items, i, math.min(i + CHUNK - 1, #items)))
  end
end

-- UNLINK keys in chunks.
local function unlink_all(keys)
  for i = 1, #keys, CHUNK do
    redis.call('UNLINK', unpack(keys, i, math.min(i + CHUNK - 1, #keys)))
  end
end

-- Scratch keys ({K}:tmp:<name>) live only inside one call: `scratch` deletes whatever an
-- earlier call could have left under the name before handing it out, and `guarded` deletes
-- every scratch key on the way out, error or not.
local scratch_keys = {}
local function scratch(name)
  local key = BASE .. 'tmp:' .. name
  redis.call('DEL', key)
  scratch_keys[#scratch_keys + 1] = key
  return key
end

local function drop_scratch()
  for i = 1, #scratch_keys, CHUNK do
    redis.pcall('UNLINK', unpack(scratch_keys, i, math.min(i + CHUNK - 1, #scratch_keys)))
  end
  scratch_keys = {}
end

local function error_text(err)
  if type(err) == 'table' then return err.err or 'error' end
  return tostring(err)
end

-- Run `main` (the script's body); its result, or its error as an error reply, either way
-- after its scratch keys are gone.
local function guarded(main)
  local ok, result = pcall(main)
  drop_scratch()
  if ok then return result end
  return redis.error_reply(error_text(result))
end

-- Sorted indexes hold `sort key .. pk8`: the 8-byte big-endian pk breaks ties (see sortkeys.py).
local function pk8(pk)
  local n = tonumber(pk)
  return struct.pack('>I4I4', math.floor(n / 4294967296), n % 4294967296)
end

local function pk_of(member)
  local hi, lo = struct.unpack('>I4I4', string.sub(member, -8))
  return int_string(hi * 4294967296 + lo)
end

-- Whether byte string a sorts before b (Lua's own < follows the server's locale).
local function bytes_less(a, b)
  local n = math.min(#a, #b)
  local i = 1
  while i <= n do
    local j = math.min(i + 7, n)
    if string.sub(a, i, j) ~= string.sub(b, i, j) then
      for k = i, j do
        local x, y = string.byte(a, k), string.byte(b, k)
        if x ~= y then return x < y end
      end
    end
    i = j + 1
  end
  return #a < #b
end

-- Whether a sorted-index member lies within ZRANGEBYLEX bounds low..high ('-', '+', '[x', '(x').
local function within(member, low, high)
  if low ~= '-' then
    local bound = string.sub(low, 2)
    if string.sub(low, 1, 1) == '[' then
      if bytes_less(member, bound) then return false end
    elseif not bytes_less(bound, member) then
      return false
    end
  end
  if high ~= '+' then
    local bound = string.sub(high, 2)
    if string.sub(high, 1, 1) == '[' then
      if bytes_less(bound, member) then return false end
    elseif not bytes_less(member, bound) then
      return false
    end
  end
  return true
end

-- Rows of objects as one msgpack document: {pk, value1, ..., valuen, pk, ...} for the objects
-- that exist (a pk whose hash is gone, e.g. evicted, is left out); an absent field is false.
-- Each value keeps its own length (a msgpack string), so corrupt bytes cannot shift fields.
local function pack_rows(gp, pks, fields)
  local out = {}
  local nf = #fields
  for _, pk in ipairs(pks) do
    local values = redis.call('HMGET', gp .. 'o:' .. pk, unpack(fields))
    local found = false
    for i = 1, nf do
      if values[i] then found = true break end
    end
    if found or (nf == 0 or redis.call('EXISTS', gp .. 'o:' .. pk) == 1) then
      out[#out + 1] = tonumber(pk)
      for i = 1, nf do out[#out + 1] = values[i] or false end
    end
  end
  return cmsgpack.pack(out)
end

-- HMGET arguments that read an object's stored index entries: for each equality-indexed field
-- f, "f" and "#f" (the member, when it differs from the stored value); then for each sorted
-- field s, "~s" (its sort key).
local function member_fields(indexed, sorted)
  local names = {}
  for i, f in ipairs(indexed) do
    names[2 * i - 1] = f
    names[2 * i] = '#' .. f
  end
  for _, s in ipairs(sorted) do names[#names + 1] = '~' .. s end
  return names
end

-- Remove a member from an index (`SREM` from a set, `ZREM` from a sorted index); drop the index
-- from the generation's registry (a sorted set of key names) once it is gone.
local function remove_entry(gp, command, key, member)
  redis.call(command, key, member)
  if redis.call('EXISTS', key) == 0 then
    redis.call('ZREM', gp .. 'ix', key)
  end
end

local function index_remove(gp, key, pk) remove_entry(gp, 'SREM', key, pk) end
local function zindex_remove(gp, key, member) remove_entry(gp, 'ZREM', key, member) end

-- Delete one object and its index entries; returns 1 if it existed.
local function delete_object(gp, pk, indexed, sorted, names)
  local okey = gp .. 'o:' .. pk
  if #names > 0 then
    local stored = redis.call('HMGET', okey, unpack(names))
    for i, f in ipairs(indexed) do
      local member = stored[2 * i] or stored[2 * i - 1]
      if member then
        index_remove(gp, gp .. 'i:' .. f .. ':' .. member, pk)
      end
    end
    for j, s in ipairs(sorted) do
      local key = stored[2 * #indexed + j]
      if key then
        zindex_remove(gp, gp .. 's:' .. s, key .. pk8(pk))
      end
    end
  end
  redis.call('ZREM', gp .. 'all', pk)
  return redis.call('DEL', okey)
end
