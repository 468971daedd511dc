-- Reads a page of change logs (see feed.lua for their elements) in one consistent step.
-- KEYS: the logs (one on standalone Redis and the embedded store; on Redis Cluster the logs of one slot).
-- ARGV[1]: at most this many elements per log; ARGV[1 + i]: the sequence number to read after in KEYS[i] (-1: from the
-- oldest retained).
-- Returns per log {first, last, identity} (0, 0, '' for an empty log; identity '' too for a log written before
-- identities, see feed.lua) followed by the page's elements, oldest first (the head's '#<seq>:<identity>;' taken
-- off). When the position asked for is outside what the log holds (older than first - 1: trimmed away; past last: the
-- log lost its newest entries, or the cursor is not of this log) the page is empty and the oldest element follows the
-- identity, so the caller can say how far back the log reaches. Whether the cursor belongs to this log at all (its
-- identity) the caller judges.
local limit = tonumber(ARGV[1])
local result = {}
for i = 1, #KEYS do
  local log, after = KEYS[i], tonumber(ARGV[1 + i])
  local head = redis.call('LINDEX', log, 0)
  if not head then
    result[i] = { 0, 0, '' }
  else
    local seq, identity, element = string.match(head, '^#(%d+):?([^;]*);(.*)$')
    local first = tonumber(seq)
    local last = first + redis.call('LLEN', log) - 1
    if after < 0 then after = first - 1 end
    if after < first - 1 or after > last then
      result[i] = { first, last, identity, element }
    else
      local page = { first, last, identity }
      if after < last then
        local start = after + 1 - first
        local elements = redis.call('LRANGE', log, start, start + limit - 1)
        if start == 0 then elements[1] = element end
        for j = 1, #elements do page[3 + j] = elements[j] end
      end
      result[i] = page
    end
  end
end
return result
