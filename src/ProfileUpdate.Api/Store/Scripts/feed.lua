-- Change feed (Changes:Enabled): put in front of apply.lua and delete.lua, so their changes and the log entries that
-- describe them are one atomic call. With the feed off the scripts get 'local FEED = false' instead and never touch a log.
-- A log is one list, oldest first: a client's only log (pu:c:{<client>:p0}) on standalone Redis and the embedded store,
-- or on Redis Cluster one per partition (pu:c:{<client>:p<N>}, in the slot of that partition's profiles). Each element
-- starts with its sequence number, one more than the last element's, so no counter key is needed and the list's head
-- tells how far back the log reaches:
--   '<seq><kind><epoch ms><flag><body>': kind 'c' created, 'u' updated, 'd' deleted; flag '!' (or '?': a write that
--   changes no attribute, logged only when it created its profile); body the entry's JSON from the service, or for a
--   delete '<tntId>\t<thirdPartyId>'.
-- The time never goes back within a log (an entry takes the later of the writer's clock and the last entry's time), so
-- the service can merge a cluster's partitions by time.
-- A log holds at most FEED_CAP elements (set by the calling script from its arguments): an append past it trims the
-- oldest in the same call.
local FEED, FEED_CAP = true, 0
local feed_logs, feed_order = {}, {}
-- Appends one element to a log; each log's elements are pushed together by feed_flush (one RPUSH per log and call).
local function feed_append(log, kind, now, body)
  local state = feed_logs[log]
  if not state then
    local last = redis.call('LINDEX', log, -1)
    local seq, ms = 0, 0
    if last then
      local s, t = string.match(last, '^(%d+)%a(%d+)')
      seq, ms = tonumber(s), tonumber(t)
    end
    state = { seq = seq, ms = ms, buf = {} }
    feed_logs[log] = state
    feed_order[#feed_order + 1] = log
  end
  local t = tonumber(now)
  if t < state.ms then t = state.ms end
  state.seq, state.ms = state.seq + 1, t
  state.buf[#state.buf + 1] = state.seq .. kind .. t .. body
end
local function feed_flush()
  for _, log in ipairs(feed_order) do
    local buf = feed_logs[log].buf
    local len = 0
    for s = 1, #buf, 400 do
      local e = s + 399
      if e > #buf then e = #buf end
      len = redis.call('RPUSH', log, unpack(buf, s, e))
    end
    if len > FEED_CAP then redis.call('LTRIM', log, len - FEED_CAP, -1) end
  end
  feed_logs, feed_order = {}, {}
end
