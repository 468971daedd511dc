-- wrk script: single updates for random pre-created visitors (mbox3rdPartyId bench-0 … bench-N-1), two attributes with
-- varying values. Optional rate limit per connection (for the "half load" latency run): RATE_DELAY_MS env var.
-- REMOVE=1: emptyValues=remove, and each request sets two attributes and removes one (left or right, alternating, so
-- the one removed was usually set by an earlier request for the same visitor: a real HDEL, not a no-op).
-- REMOVE=param: the very same two-attribute update as without REMOVE, plus emptyValues=remove on the URL (nothing to
-- remove): what accepting the parameter costs an update that does not use it.
local visitors = tonumber(os.getenv("VISITORS") or "10000")
local client = os.getenv("CLIENT") or "bench"
local delay_ms = tonumber(os.getenv("RATE_DELAY_MS") or "0")
local remove = os.getenv("REMOVE") == "1"
local param = os.getenv("REMOVE") == "param" and "&emptyValues=remove" or ""
local counter = 0

function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end

function init(args)
  math.randomseed(os.time() + (seed or 0))
end

function request()
  counter = counter + 1
  local id = math.random(0, visitors - 1)
  local path
  if remove then
    local set, removed = "left", "right"
    if counter % 2 == 0 then set, removed = "right", "left" end
    path = "/m2/" .. client .. "/profile/update?mbox3rdPartyId=bench-" .. id .. "&emptyValues=remove" ..
      "&profile.counter=" .. counter .. "&profile." .. set .. "=c" .. (counter % 97) .. "&profile." .. removed .. "="
  else
    path = "/m2/" .. client .. "/profile/update?mbox3rdPartyId=bench-" .. id .. param ..
      "&profile.counter=" .. counter .. "&profile.color=c" .. (counter % 97)
  end
  return wrk.format("GET", path)
end

if delay_ms > 0 then
  -- Uniform in [0, 2 x mean]: a constant delay puts every connection in lockstep after the first response, so "half
  -- load" would really be bursts of one request per connection at once. Jitter spreads arrivals as real clients do.
  -- wrk waits whole milliseconds; a fractional mean (RATE_DELAY_MS=2.5) is kept on average by rounding each draw.
  function delay()
    return math.floor(math.random() * 2 * delay_ms + 0.5)
  end
end
