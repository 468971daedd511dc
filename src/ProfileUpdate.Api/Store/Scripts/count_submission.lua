-- Counts one bulk submission in a client's current minute; the counter expires shortly after its minute. One atomic
-- call: INCR and EXPIRE sent separately would cost two round trips, and a crash between them would leave a counter
-- that never expires.
-- KEYS[1]: the client's counter for the minute; ARGV[1]: seconds the counter is kept; ARGV[2]: 'refund' to give back a
-- submission counted before (the upload was refused) instead of counting one.
-- Returns the number of submissions counted in that minute, this one included (after a refund: without it).
if ARGV[2] == 'refund' then
  -- Only while the counter lives: a refund after it expired must not create a counter without an expiry.
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  return redis.call('DECR', KEYS[1])
end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1])) end
return count
