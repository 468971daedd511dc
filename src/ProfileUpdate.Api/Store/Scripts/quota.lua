-- Rolling 24-hour quota of one client, exact to the minute, admitted atomically (Redis runs a script alone, so any
-- number of service instances share it without over-admitting).
-- KEYS[1]: the client's quota hash. Fields: one per live minute (ring slot 'minute % 1441' → units used in that minute),
--          'sum' (units in the live minutes), 'lo' (oldest minute that may hold units), 'hi' (newest minute written).
-- ARGV[1]: limit; ARGV[2]: units wanted (0 = only look); ARGV[3]: now in seconds, '' = Redis TIME (production: one clock
--          for every instance); ARGV[4]: key TTL in seconds (state of an inactive client disappears).
-- KEYS[2], optional: this call's reply marker ('pu:q:{<client>}:r:<call id>', the quota key's slot), given for every call
--          that takes units. ARGV[5]: the marker's lifetime in ms (the service's retry window); ARGV[6]: '1' when the
--          call is sent again after its connection broke. A retry whose first send ran finds the marker and answers the
--          decision stored there (as the string 'admitted,remaining,reset,retry'), taking nothing: a reply lost with
--          its connection never costs units twice. Every call that runs stores its decision (one SET; no read unless a retry).
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
  local stored = redis.call('GET', marker)
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

local state = redis.call('HMGET', key, 'sum', 'lo', 'hi')
local sum = tonumber(state[1]) or 0
local minute = math.floor(now / 60)
local hi = tonumber(state[3]) or minute
if minute < hi then minute = hi end -- a clock that steps back never frees units early
local lo = tonumber(state[2]) or minute
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
end
-- Keep 'lo' on the oldest non-empty minute so the next expiry is one lookup away (amortised O(1): lo only moves forward).
while lo < minute and sum > 0 and not redis.call('HGET', key, int(lo % SLOTS)) do
  lo = lo + 1
end
if sum == 0 then lo = minute end

local available = limit - sum
if available < 0 then available = 0 end
local admitted = want
if admitted > available then admitted = available end
if admitted > 0 then
  redis.call('HINCRBY', key, int(minute % SLOTS), int(admitted))
  sum = sum + admitted
end
redis.call('HSET', key, 'sum', int(sum), 'lo', int(lo), 'hi', int(minute))
redis.call('EXPIRE', key, ARGV[4])

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
if marker then redis.call('SET', marker, string.format('%d,%d,%d,%d', admitted, limit - sum, reset, retry), 'PX', ARGV[5]) end
return { admitted, limit - sum, reset, retry }
