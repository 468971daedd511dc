-- Deletes one profile: its hash and the thirdPartyId links that point to it, atomically (standalone Redis, the embedded
-- store). On a cluster the links live in other slots: they are removed first with unlink.lua, one by one, and this
-- script is called with the profile hash only, to delete the hash once no new link has appeared.
-- KEYS[1]: the profile hash; KEYS[2..n]: link keys to remove (standalone), the links of ARGV[2..n] in order.
-- ARGV[1]: the tntId without its location hint; ARGV[2..]: every thirdPartyId the caller has handled (links in KEYS, or
--   removed before this call on a cluster).
-- A link is removed only when it still points to this profile: a thirdPartyId deleted once and linked again to a new
-- profile is never taken from it.
-- Change feed (FEED, see feed.lua): the profile's log is the last key, the log cap the argument before the last and the
--   time (epoch ms) the last argument; a profile
--   that existed is logged as deleted, with its tntId as first given and its last thirdPartyId.
-- Returns {1, links removed} when the profile existed and is gone, {0, links removed} when it did not exist (orphan links
-- given in KEYS are removed all the same), or {2, thirdPartyId, ...} when the profile has links the caller did not
-- handle (a visit linked one meanwhile): nothing was deleted, call again with those added.
local hash, base = KEYS[1], ARGV[1]
local nkeys, nargs = #KEYS, #ARGV
if FEED then nkeys, nargs, FEED_CAP = nkeys - 1, nargs - 2, tonumber(ARGV[#ARGV - 1]) end
local exists = redis.call('EXISTS', hash) == 1
if exists then
  local handled = {}
  for i = 2, nargs do handled[ARGV[i]] = true end
  local missing = { 2 }
  local function check(id)
    if not handled[id] then
      handled[id] = true
      missing[#missing + 1] = id
    end
  end
  for _, f in ipairs(redis.call('HKEYS', hash)) do
    if string.sub(f, 1, 4) == '_:l:' then check(string.sub(f, 5)) end
  end
  local last = redis.call('HGET', hash, '_:3')
  if last then check(last) end
  if #missing > 1 then return missing end
end
local removed = 0
for i = 2, nkeys do
  local target = redis.call('GET', KEYS[i])
  if target and (target == base or string.sub(target, 1, #base + 1) == base .. '.') then
    redis.call('DEL', KEYS[i])
    removed = removed + 1
  end
end
if exists then
  if FEED then
    local ids = redis.call('HMGET', hash, '_:t', '_:3')
    feed_append(KEYS[#KEYS], ARGV[#ARGV], 'd' .. ARGV[#ARGV] .. '!' .. (ids[1] or base) .. '\t' .. (ids[2] or ''))
    feed_flush()
  end
  redis.call('DEL', hash)
end
return { exists and 1 or 0, removed }
