-- Rolling 24-hour quota of one client, exact to the minute, admitted atomically (Redis runs a script alone, so any
-- number of service instances share it without over-admitting).
-- KEYS[1]: the client's quota hash. Fields: one per live minute (ring slot 'minute % 1441' → units used in that minute),
--          'sum' (units in the live minutes), 'lo' (oldest minute that may hold units), 'hi' (newest minute written).
-- ARGV[1]: limit; ARGV[2]: units wanted (0 = only look); ARGV[3]: now in seconds, '' = Redis TIME (production: one clock
--          for every instance); ARGV[4]: key TTL in seconds (state of an inactive client disappears).
-- KEYS[2], optional: the hash holding this call's reply marker ('pu:q:{<client>}:r:<name>', the quota key's slot), given
--          for every call that takes units; ARGV[7]: the call's field in it. ARGV[5]: the markers' lifetime in ms (the
--          service's retry window); ARGV[6]: '1' when the call is sent again after its connection broke. A retry whose
--          first send ran finds the marker and answers the decision stored there (as the string
--          'admitted,remaining,reset,retry'), taking nothing: a reply lost with its connection never costs units twice.
--          Every call that runs stores its decision (one HSET and a PEXPIRE of the shared hash; no read unless a retry).
-- A unit used during minute m counts until minute m + 1441 starts: a little over 24 h, never under, so no 24-hour span
-- can ever hold more than the limit.
-- Returns { admitted, remaining, seconds until the oldest unit frees (0: none used), retry-after seconds for the rest (0: none denied) }.
local SLOTS = 1441
-- Numbers reach Redis as text. Lua's own conversion (tostring, or a number passed to redis.call) formats a double with
-- '%.14g', the C library's slow floating-point path; every number here is whole, so '%d' says the same far cheaper
-- (measured with redis-benchmark: about 15% of this script's time per call). The TTL is passed on as the text it came as.
local function int(n) return string.format('%d', n) end
local key, marker = KEYS[1], KEYS[2]
if marker and ARGV[6] == '1' then
  local stored = redis.call('HGET', marker, ARGV[7])
  if stored then return stored end
end
local limit = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[3])
end

-- One read for the common case: the state and the current minute's slot (fetched before 'hi' is known; used only when
-- the minute stands and no expiry below touched the ring).
local minute = math.floor(now / 60)
local state = redis.call('HMGET', key, 'sum', 'lo', 'hi', int(minute % SLOTS))
local sum = tonumber(state[1]) or 0
local stored_lo, stored_hi = tonumber(state[2]), tonumber(state[3])
local used_now = tonumber(state[4]) or 0
local hi = stored_hi or minute
if minute < hi then minute = hi; used_now = nil end -- a clock that steps back never frees units early
local lo = stored_lo or minute
local first = minute - SLOTS + 1 -- oldest live minute

if lo < first then
  if first - lo >= SLOTS then
    redis.call('DEL', key) -- idle for a day or more: everything has expired
    sum = 0
  else
    for m = lo, first - 1 do
      local slot = int(m % SLOTS)
      local used = tonumber(redis.call('HGET', key, slot))
      if used then
        sum = sum - used
        redis.call('HDEL', key, slot)
      end
    end
  end
  lo = first
  used_now = nil -- the ring slot of this minute held minute - 1441's units until now: read it again when needed
  -- Keep 'lo' on the oldest non-empty minute so the next expiry is one lookup away (amortised O(1): lo only moves
  -- forward). Every call leaves it so, so only a call that just moved it past expired minutes has to walk.
  while lo < minute and sum > 0 and not redis.call('HGET', key, int(lo % SLOTS)) do
    lo = lo + 1
  end
end
if sum == 0 then lo = minute end

local available = limit - sum
if available < 0 then available = 0 end
local admitted = want
if admitted > available then admitted = available end
if admitted > 0 then
  sum = sum + admitted
  if used_now then
    redis.call('HSET', key, 'sum', int(sum), 'lo', int(lo), 'hi', int(minute), int(minute % SLOTS), int(used_now + admitted))
  else
    redis.call('HINCRBY', key, int(minute % SLOTS), int(admitted))
    redis.call('HSET', key, 'sum', int(sum), 'lo', int(lo), 'hi', int(minute))
  end
elseif lo ~= stored_lo or minute ~= stored_hi then
  redis.call('HSET', key, 'sum', int(sum), 'lo', int(lo), 'hi', int(minute))
end
-- The key outlives its newest units (KeyTtl 90,000 s against at most 86,520 s from the first call of a minute to the
-- end of that minute's units), so renewing its expiry once per minute, when 'hi' moves, is enough.
if minute ~= stored_hi then redis.call('EXPIRE', key, ARGV[4]) end

-- Reported waits are exact, never capped at the window: a unit used during the current minute frees when minute + 1441
-- starts, up to a minute more than 86,400 s away, and a client that waits a shorter Retry-After would only be refused
-- again. So 't' of the RateLimit header can exceed the policy's 'w' by under a minute.
local reset = 0
if sum > 0 then reset = math.ceil((lo + SLOTS) * 60 - now) end

-- Denied units: when will enough have expired for one more? Walk the minutes from the oldest until sum drops below the limit.
local retry = 0
if admitted < want then
  local excess = sum - limit + 1
  local m = lo
  while excess > 0 and m <= minute do
    local used = tonumber(redis.call('HGET', key, int(m % SLOTS)))
    if used then excess = excess - used end
    if excess <= 0 then break end
    m = m + 1
  end
  retry = math.ceil((m + SLOTS) * 60 - now)
  if retry < 1 then retry = 1 end
end
if marker then
  redis.call('HSET', marker, ARGV[7], string.format('%d,%d,%d,%d', admitted, limit - sum, reset, retry))
  redis.call('PEXPIRE', marker, ARGV[5])
end
return { admitted, limit - sum, reset, retry }
