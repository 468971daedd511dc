-- apply.lua with a reply marker, for the applier's apply calls that quota_apply.lua's marker does not cover (Redis
-- Cluster, the quota off, the rewrite through a stale link) while the change feed is on: such a call sent again after
-- its connection broke (its first send may have run with only its reply lost) answers the first run's results and
-- writes and logs nothing more, so no change is appended to the feed twice.
-- At load time this file is appended to apply.lua wrapped as a local function taking (KEYS, ARGV, ...), as
-- quota_apply.lua is: apply_fn below is exactly that script, so the rules live in one place.
-- KEYS[1]: the hash holding this call's reply marker ('pu:r:{<client>:p<N>}:<name>', in the slot of the call's
--   profiles); KEYS[2..]: apply.lua's keys. ARGV[1]: the markers' lifetime in ms (the service's retry window); ARGV[2]:
--   '1' when the call is sent again after its connection broke (only then is the marker read); ARGV[3]: the call's
--   field in the marker hash; ARGV[4..]: apply.lua's arguments.
-- Returns apply.lua's results. They are stored in the marker as one digit per entry; a retry whose first send ran
-- returns that string and does nothing else.
if ARGV[2] == '1' then
  local stored = redis.call('HGET', KEYS[1], ARGV[3])
  if stored then return stored end
end
local r = apply_fn(KEYS, ARGV, 2, 4)
local DIGITS = { [0] = '0', '1', '2', '3' } -- strings ready to join: concatenating numbers formats each with '%.14g'
local codes = {}
for i = 1, #r do codes[i] = DIGITS[r[i]] end
redis.call('HSET', KEYS[1], ARGV[3], table.concat(codes))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return r
