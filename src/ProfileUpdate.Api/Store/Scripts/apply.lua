-- Applies many profile writes in one round trip (group commit). Atomic per call: Redis runs a script alone.
-- KEYS[i]: profile hash of entry i (all KEYS of one call share a hash slot on a cluster).
-- ARGV[1]: now in epoch ms (the service's clock), stored as '_:m' on every profile written and as '_:c' on one this
--   call creates (with the creating row after it for modes 'cb'/'crb', below).
-- Then per entry i, in order: mode, the tntId (the 'c' modes only), m, then m arguments that are field/value pairs
--   ready for HSET: '_:3' (thirdPartyId, when known) and 'a:<name>' → '<modified epoch ms>:<value>' per attribute.
--   Every entry's first HSET also sets '_:m' (modified) to now, ahead of its pairs: every profile has it, so that HSET
--   almost never adds only new fields and HLEN is rarely needed.
--   mode 'u': update only; a missing profile is left missing.
--   mode 'c': create the profile when missing (visits), with '_:c' (created) and '_:t' (tntId as first given).
--   mode 'ur' / 'cr': as 'u' / 'c', and the m arguments are followed by r and r fields to delete ('a:<name>', attribute
--   removal, emptyValues=remove), deleted after the sets in the same call. Entries without removals carry no extra
--   argument, so the common update pays nothing for the feature.
--   mode 'cb' / 'crb': as 'c' / 'cr' for a bulk v2 row, followed (after the removals, if any) by one more argument: the
--   value '_:c' takes when this entry creates the profile, '<now>:<batchId>:<line>' (ready-made: no string building
--   here). So the one step that decides the creation also records which row made it, and a row re-applied after a crash
--   counts itself created only when '_:c' names it (docs/architecture.md, "Crash safety"); a profile the entry does not
--   create keeps its '_:c' untouched.
--   With Profiles:Lifetime set, the mode ends with it in ms ('u1209600000', 'ur1209600000', 'crb1209600000'): the
--   profile's hash then expires that long after this write (PEXPIRE); without it nothing more is done.
-- The client builds the fields and values: building them here (string concatenation, argument tables) cost Redis more
-- per update than the writes themselves (measured: 7.4 µs per two-attribute update before, 3.7 µs after). Yet every
-- argument is a Lua string Redis makes for the call, so nothing is sent that the script can know or does not use: '_:m'
-- and its value (now) are added here, and an update-only entry has no tntId.
-- Change feed (FEED, see feed.lua): ARGV after now is the log cap (FEED_CAP); each entry has a second key, its log
--   (the one of its client and, on a cluster, its partition), right after its profile hash, and one more argument after
--   its other ones: the entry's log element as the service built it ('u<now>', '!', '?' or '-', the JSON). An entry that
--   wrote is logged (its 'u' made a 'c' when it created the profile; for a profile that existed, the tntId in it made
--   the one the profile was created with, feed_named); one that wrote nothing (update-only, profile
--   missing) is not; one flagged '?' (it sets and removes nothing) only when it created its profile; one flagged '-'
--   (it only removes attributes) only when it created its profile or HDEL removed at least one field — removing
--   attributes that are not there changes nothing, so it has no entry, and its result is 3 instead of 1. The count of
--   HDEL's replies costs no command, and an entry that sets something ('!') is decided as before.
-- quota_apply.lua and apply_marked.lua call this as a function with (KEYS, ARGV, first key, first argument[, entries])
-- so that it reads its share of the arguments in place (entries left out: every key from the first on); run on its own,
-- the script takes all of KEYS and ARGV.
-- Returns, per entry: 0 profile not found (nothing written), 1 applied, 2 created, 3 (feed on) applied without an entry.
local k, a, count = ...
if not k then k, a = 1, 1 end
if not count then count = FEED and (#KEYS - k + 1) / 2 or #KEYS - k + 1 end
local now = ARGV[a]
a = a + 1
if FEED then
  FEED_CAP = tonumber(ARGV[a])
  a = a + 1
end
local CHUNK = 400 -- arguments per HSET (even): stays far below Lua's unpack limit for any request size
local result = {}
for i = 1, count do
  local key = KEYS[k]
  k = k + 1
  local log, body
  if FEED then
    log = KEYS[k]
    k = k + 1
  end
  local mode, tnt = ARGV[a], nil
  if string.byte(mode, 1) == 99 then -- 'c': a profile it creates records its tntId
    tnt = ARGV[a + 1]
    a = a + 1
  end
  local m = tonumber(ARGV[a + 1])
  local first, last = a + 2, a + 1 + m
  a = last + 1
  local rf, rl, lifetime, by -- the fields to delete, the lifetime and the creating row, when the mode says there are any
  if #mode > 1 then
    local rest = string.sub(mode, 2)
    mode = string.sub(mode, 1, 1)
    if string.byte(rest, 1) == 114 then -- 'r'
      rf, rl = a + 1, a + tonumber(ARGV[a])
      a = rl + 1
      rest = string.sub(rest, 2)
    end
    if string.byte(rest, 1) == 98 then -- 'b'
      by = ARGV[a]
      a = a + 1
      rest = string.sub(rest, 2)
    end
    if #rest > 0 then lifetime = rest end
  end
  if FEED then
    body = ARGV[a]
    a = a + 1
  end
  -- No EXISTS first: the first HSET tells. If it added fewer fields than it set, the key existed; if it added all of
  -- them, HLEN decides between a key just created (it holds only them) and one that merely lacked them (rare: '_:m'
  -- leads every entry and every profile has it). A key created for an update-only entry is deleted again before anyone can see it
  -- (a script runs alone). One call fewer per update: the script's time per update -20% (redis-benchmark).
  local e1 = first + CHUNK - 1
  if e1 > last then e1 = last end
  local added = redis.call('HSET', key, '_:m', now, unpack(ARGV, first, e1))
  local created = added * 2 == e1 - first + 3 and redis.call('HLEN', key) == added
  if created and mode ~= 'c' then
    redis.call('DEL', key)
    result[i] = 0
  else
    if created then redis.call('HSET', key, '_:c', by or now, '_:t', tnt) end
    for s = e1 + 1, last, CHUNK do
      local e = s + CHUNK - 1
      if e > last then e = last end
      redis.call('HSET', key, unpack(ARGV, s, e))
    end
    local removed = 0 -- attributes HDEL found: a write that only removes is logged only when it removed one
    if rf then
      for s = rf, rl, CHUNK do
        local e = s + CHUNK - 1
        if e > rl then e = rl end
        removed = removed + redis.call('HDEL', key, unpack(ARGV, s, e))
      end
    end
    if lifetime then redis.call('PEXPIRE', key, lifetime) end
    result[i] = created and 2 or 1
    if FEED then
      local flag = string.byte(body, 2 + #now) -- the flag after 'u<now>'
      if created or flag == 33 or (flag == 45 and removed > 0) then -- '!', or '-' that removed something
        if created then body = 'c' .. string.sub(body, 2) else body = feed_named(key, now, body) end
        feed_append(log, now, body)
      elseif flag == 45 then
        result[i] = 3 -- applied, no entry: the service counts no change for it
      end
    end
  end
end
if FEED then feed_flush() end
return result
