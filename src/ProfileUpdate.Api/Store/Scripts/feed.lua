-- Change feed (Changes:Enabled): put in front of apply.lua and delete.lua, so their changes and the log entries that
-- describe them are one atomic call. With the feed off the scripts get 'local FEED = false' instead and never touch a log.
-- A log is one list, oldest first: a client's only log (pu:c:{<client>:p0}) on standalone Redis and the embedded store,
-- or on Redis Cluster one per partition (pu:c:{<client>:p<N>}, in the slot of that partition's profiles).
-- Element: '<kind><epoch ms><flag><body>': kind 'c' created, 'u' updated, 'd' deleted; flag '!' (or '?': a write that
-- changes no attribute, logged only when it created its profile; or '-': a write that only removes attributes, logged
-- only when it created its profile or removed one that was there); body the entry's JSON from the service, or for a
-- delete '<tntId>\t<thirdPartyId>'. The head element alone carries its sequence number and the log's identity in
-- front, '#<seq>:<identity>;': an element's sequence number is the head's plus its index, so the log's positions need
-- no counter key and no number is formatted per entry (measured: formatting the sequence number and the time for each
-- element cost Redis more than pushing it). The identity is the store's clock (TIME, '<s>.<us>') when the log's first
-- element was pushed, carried over whenever trimming moves the head: a log that is lost (a store restarted without
-- persistence, the key deleted) starts again at sequence number 1 under a new identity, and the service refuses a
-- cursor made for another identity instead of reading the new log's positions as the old one's (docs/architecture.md,
-- "Change feed"). A log written before identities has the head '#<seq>;' (identity empty) and keeps it.
-- It costs nothing per write: TIME runs once per log, when the log is created.
-- The time never goes back within a log (an entry takes the later of the writer's clock and the last entry's time), so
-- the service can merge a cluster's partitions by time.
-- The service builds a write's element itself ('u<now>' and flag and body, apply.lua turns the 'u' into 'c' for a
-- profile it created): the common update is pushed as it came, without building a string in Lua (measured: building
-- each element here cost Redis more than pushing it). Only a log whose last entry is later than the writer's clock
-- (instances with skewed clocks) gets elements rebuilt with that later time.
-- A log holds at most FEED_CAP elements (set by the calling script from its arguments): a push past it trims the
-- oldest in the same call, and the new head gets its sequence number.
local FEED, FEED_CAP = true, 0
local feed_logs, feed_order = {}, {}
-- The time of an element, and its sequence number when it is a head: '#<seq>:<identity>;' (or '#<seq>;') then
-- '<kind><ms>'.
local function feed_parse(element)
  local seq, rest = string.match(element, '^#(%d+)[^;]*;(.*)$')
  return tonumber(string.match(rest or element, '^%a(%d+)')), seq and tonumber(seq)
end
-- Appends one element '<kind><now><flag><body>' to a log; each log's elements are pushed together by feed_flush (one
-- RPUSH per log and call).
local function feed_append(log, now, element)
  local state = feed_logs[log]
  if not state then
    local last = redis.call('LINDEX', log, -1)
    local later -- the last entry's time when it is later than now
    if last then
      local ms = feed_parse(last)
      if ms > tonumber(now) then later = tostring(ms) end
    end
    state = { later = later, buf = {}, empty = not last }
    feed_logs[log] = state
    feed_order[#feed_order + 1] = log
  end
  if state.later then element = string.sub(element, 1, 1) .. state.later .. string.sub(element, 2 + #now) end
  local buf = state.buf
  if state.empty and #buf == 0 then
    local t = redis.call('TIME')
    buf[1] = '#1:' .. t[1] .. '.' .. t[2] .. ';' .. element -- the first element of a log is the head: sequence number 1
  else
    buf[#buf + 1] = element
  end
end
-- An entry names its profile by the tntId the profile was created with ('_:t', the tntId the read API shows), whatever
-- form the write gave (another location hint, or none), so every entry of one profile carries the same tntId. The
-- service's element starts '<kind><now><flag>{"tntId":"<tntId as given>"' and a tntId holds no character JSON escapes:
-- the id is swapped in only when it differs (one HGET, only for an entry logged for a profile that existed).
local function feed_named(key, now, element)
  local t = redis.call('HGET', key, '_:t')
  if not t then return element end
  local s = #now + 12 -- the last character before the id: 'u', now, the flag and '{"tntId":"'
  local e = string.find(element, '"', s + 1, true)
  if not e or string.sub(element, s + 1, e - 1) == t then return element end
  return string.sub(element, 1, s) .. t .. string.sub(element, e)
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
    if len > FEED_CAP then
      local first, identity = string.match(redis.call('LINDEX', log, 0), '^#(%d+)(:?[^;]*);')
      local drop = len - FEED_CAP
      redis.call('LTRIM', log, drop, -1)
      local head = redis.call('LINDEX', log, 0)
      redis.call('LSET', log, 0, '#' .. (tonumber(first) + drop) .. identity .. ';' .. (string.match(head, '^#[^;]*;(.*)$') or head))
    end
  end
  feed_logs, feed_order = {}, {}
end
