-- Applies many profile writes in one round trip (group commit). Atomic per call: Redis runs a script alone.
-- KEYS[i]: profile hash of entry i (all KEYS of one call share a hash slot on a cluster).
-- ARGV, per entry i in order: mode, tntId, thirdPartyId, n, then n (name, value) pairs.
--   mode 'u': update only; a missing profile is left missing.
--   mode 'c': create the profile when missing (visits, bulk v2).
-- Fields: attribute <name> lives under 'a:<name>' as '<modified epoch ms>:<value>' (one field per attribute keeps
-- profiles small and writes short); profile metadata under '_:<name>'. The prefixes keep attribute names from ever
-- colliding with metadata.
-- Returns, per entry: 0 profile not found (nothing written), 1 applied, 2 created.
local t = redis.call('TIME')
local now = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local stamp = now .. ':'
local result = {}
local a = 1
local CHUNK = 200 -- field pairs per HSET: stays far below Lua's unpack limit for any request size
for i = 1, #KEYS do
  local key = KEYS[i]
  local mode, tnt, tp, n = ARGV[a], ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 3])
  a = a + 4
  local exists = redis.call('EXISTS', key) == 1
  if not exists and mode ~= 'c' then
    result[i] = 0
    a = a + 2 * n
  else
    local args = { '_:m', now }
    if not exists then
      args[#args + 1] = '_:c'; args[#args + 1] = now
      args[#args + 1] = '_:t'; args[#args + 1] = tnt
    end
    if tp ~= '' then
      args[#args + 1] = '_:3'; args[#args + 1] = tp
    end
    for _ = 1, n do
      local name = ARGV[a]
      args[#args + 1] = 'a:' .. name; args[#args + 1] = stamp .. ARGV[a + 1]
      a = a + 2
      if #args >= 2 * CHUNK then
        redis.call('HSET', key, unpack(args))
        args = {}
      end
    end
    if #args > 0 then
      redis.call('HSET', key, unpack(args))
    end
    result[i] = exists and 1 or 2
  end
end
return result
