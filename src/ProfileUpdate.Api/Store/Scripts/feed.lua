-- Change feed (Changes:Enabled): put in front of apply.lua and delete.lua, so their changes and the log entries that
-- describe them are one atomic call. With the feed off the scripts get 'local FEED = false' instead and never touch a log.
-- A client's log is one list (pu:c:{<client>}), oldest first. Each element starts with its sequence number, one more than
-- the last element's, so no counter key is needed and the list's head tells how far back the log reaches:
--   '<seq><kind><epoch ms><flag><body>': kind 'c' created, 'u' updated, 'd' deleted; flag '!' (or '?': a write that
--   changes no attribute, logged only when it created its profile); body the entry's JSON from the service, or for a
--   delete '<tntId>\t<thirdPartyId>'.
-- The list holds at most FEED_CAP elements: an append past it trims the oldest in the same call.
local FEED, FEED_CAP = true, tonumber('%CAP%')
local feed_log, feed_seq, feed_buf = nil, 0, {}
local function feed_flush()
  if #feed_buf == 0 then return end
  local len = 0
  for s = 1, #feed_buf, 400 do
    local e = s + 399
    if e > #feed_buf then e = #feed_buf end
    len = redis.call('RPUSH', feed_log, unpack(feed_buf, s, e))
  end
  if len > FEED_CAP then redis.call('LTRIM', feed_log, len - FEED_CAP, -1) end
  feed_buf = {}
end
-- Appends one element to a log; elements of one log are pushed together by feed_flush (one RPUSH per run of entries).
local function feed_append(log, tail)
  if log ~= feed_log then
    feed_flush()
    feed_log = log
    local last = redis.call('LINDEX', log, -1)
    feed_seq = last and tonumber(string.match(last, '^%d+')) or 0
  end
  feed_seq = feed_seq + 1
  feed_buf[#feed_buf + 1] = feed_seq .. tail
end
