-- Renews the lease of a batch this instance holds (queued or running) and, with it, the expiry of its records, in one
-- atomic step per batch. Only a record that exists and is not complete is touched: HSET on an expired record would
-- make a stub without checkpoint or counts (which the applier would take for an unknown batch), and renewing a
-- complete one would stretch its retention, which counts from completion.
-- KEYS[1]: the batch's status hash; KEYS[2]: its failed rows; KEYS[3]: its erase journal (bulk erase; else absent).
-- ARGV[1]: lease until (epoch ms); ARGV[2]: the instance that holds the lease; ARGV[3]: seconds the records are kept.
-- Returns 1 when renewed, 0 when the record is missing or complete.
local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'complete' then return 0 end
redis.call('HSET', KEYS[1], 'leaseUntil', ARGV[1], 'owner', ARGV[2])
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], ARGV[3]) end
return 1
