-- Quota and apply for one client's share of an applier batch in one call, one round trip (standalone Redis only: the
-- quota key and the profile keys are in different hash slots, so on a cluster the two scripts run separately).
-- At load time this file is appended to quota.lua and apply.lua, each wrapped as a local function taking
-- (KEYS, ARGV, ...): quota_fn and apply_fn below are exactly those scripts, so the rules live in one place.
-- KEYS[1]: the client's quota hash; KEYS[2]: the hash holding this call's reply marker (as in quota.lua); KEYS[3..]:
--   profile hashes of the units that have a profile to write, in order.
-- ARGV[1..7]: the quota script's arguments (limit, units u, now, ttl, the marker's lifetime in ms, '1' on a retry, the
--   call's field in the marker hash); ARGV[8]: u characters, per unit in order '1' when it has a write (a KEYS entry) or '0' when it has none (its visitor
--   is unknown: it still costs a unit) — one string rather than one argument per unit, since every argument costs Redis
--   a Lua string; then, from ARGV[9], the apply script's arguments for the writes, in order.
-- Returns the quota script's four numbers followed by the apply result of each admitted write. The same reply is stored
-- in the marker (the call's field of the hash) as one string, 'admitted,remaining,reset,retry,' and a digit per write result; a retry whose first send
-- ran returns that string and does nothing else — no second unit, no second write, no second change-feed entry.
if ARGV[6] == '1' then
  local stored = redis.call('HGET', KEYS[2], ARGV[7])
  if stored then return stored end
end
local q = quota_fn({ KEYS[1] }, { ARGV[1], ARGV[2], ARGV[3], ARGV[4] })
local admitted = tonumber(q[1])
local flags = ARGV[8]
local writes = 0
for i = 1, admitted do
  if string.byte(flags, i) == 49 then writes = writes + 1 end -- '1'
end
local result = { q[1], q[2], q[3], q[4] }
local codes = {}
if writes > 0 then
  -- The admitted units are the first ones, so their writes are the first 'writes' entries: applied in place.
  local r = apply_fn(KEYS, ARGV, 3, 9, writes)
  local DIGITS = { [0] = '0', '1', '2', '3' } -- strings ready to join: concatenating numbers formats each with '%.14g'
  for w = 1, writes do
    result[4 + w] = r[w]
    codes[w] = DIGITS[r[w]]
  end
end
redis.call('HSET', KEYS[2], ARGV[7], string.format('%d,%d,%d,%d,', q[1], q[2], q[3], q[4]) .. table.concat(codes))
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return result
