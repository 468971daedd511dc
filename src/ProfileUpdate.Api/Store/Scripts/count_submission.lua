-- Counts one bulk submission in a client's current minute; the counter expires shortly after its minute. One atomic
-- call: INCR and EXPIRE sent separately would cost two round trips, and a crash between them would leave a counter
-- that never expires.
-- KEYS[1]: the client's counter for the minute; ARGV[1]: seconds the counter is kept.
-- Returns the number of submissions counted in that minute, this one included.
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return count
