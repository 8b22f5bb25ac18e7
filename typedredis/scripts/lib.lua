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

-- One object as a single msgpack document: the array header `header`, then the n stored
-- values; an absent field becomes MISSING_FIELD (see typedredis/codec.py, row_header).
local MISSING_FIELD = '\212\0\0'
local function row(header, values, n)
  local parts = {header}
  for i = 1, n do parts[i + 1] = values[i] or MISSING_FIELD end
  return table.concat(parts)
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

-- Sorted indexes hold `sort key .. pk8`: the 8-byte big-endian pk breaks ties (see sortkeys.py).
local function pk8(pk)
  local n = tonumber(pk)
  return struct.pack('>I4I4', math.floor(n / 4294967296), n % 4294967296)
end

local function pk_of(member)
  local hi, lo = struct.unpack('>I4I4', string.sub(member, -8))
  return int_string(hi * 4294967296 + lo)
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
-- from the generation's registry once it is gone.
local function remove_entry(gp, command, key, member)
  redis.call(command, key, member)
  if redis.call('EXISTS', key) == 0 then
    redis.call('SREM', gp .. 'ix', key)
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
  redis.call('SREM', gp .. 'all', pk)
  return redis.call('DEL', okey)
end

