-- Reads a page of one client's change log (see feed.lua for its elements) in one consistent step.
-- KEYS[1]: the log. ARGV[1]: the sequence number to read after (-1: from the oldest retained); ARGV[2]: at most this many.
-- Returns {first, last} (0, 0 for an empty log) followed by the page's elements, oldest first. When ARGV[1] is outside
-- what the log holds (older than first - 1: trimmed away; past last: the log was reset) the page is empty and the
-- oldest element follows first and last, so the caller can say how far back the log reaches.
local log = KEYS[1]
local after, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local head = redis.call('LINDEX', log, 0)
if not head then return { 0, 0 } end
local first = tonumber(string.match(head, '^%d+'))
local last = first + redis.call('LLEN', log) - 1
if after < 0 then after = first - 1 end
if after < first - 1 or after > last then return { first, last, head } end
local result = { first, last }
if after == last then return result end
local start = after + 1 - first
local page = redis.call('LRANGE', log, start, start + limit - 1)
for i = 1, #page do result[2 + i] = page[i] end
return result
