-- Quota and apply for one client's share of an applier batch in one call, one round trip (standalone Redis only: the
-- quota key and the profile keys are in different hash slots, so on a cluster the two scripts run separately).
-- At load time this file is appended to quota.lua and apply.lua, each wrapped as a local function taking
-- (KEYS, ARGV, ...): quota_fn and apply_fn below are exactly those scripts, so the rules live in one place.
-- KEYS[1]: the client's quota hash; KEYS[2..]: profile hashes of the units that have a profile to write, in order.
-- ARGV[1..4]: the quota script's arguments (limit, units u, now, ttl); ARGV[5]: u characters, per unit in order '1' when
--   it has a write (a KEYS entry) or '0' when it has none (its visitor is unknown: it still costs a unit) — one string
--   rather than one argument per unit, since every argument costs Redis a Lua string;
--   then, from ARGV[6], the apply script's arguments for the writes, in order.
-- Returns the quota script's four numbers followed by the apply result of each admitted write.
local q = quota_fn({ KEYS[1] }, { ARGV[1], ARGV[2], ARGV[3], ARGV[4] })
local admitted = tonumber(q[1])
local flags = ARGV[5]
local writes = 0
for i = 1, admitted do
  if string.byte(flags, i) == 49 then writes = writes + 1 end -- '1'
end
local result = { q[1], q[2], q[3], q[4] }
if writes > 0 then
  -- The admitted units are the first ones, so their writes are the first 'writes' entries: applied in place.
  local r = apply_fn(KEYS, ARGV, 2, 6, writes)
  for w = 1, writes do result[4 + w] = r[w] end
end
return result
