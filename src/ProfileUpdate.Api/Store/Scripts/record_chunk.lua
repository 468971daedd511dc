-- Records one applied chunk of a batch: its counts, its failed rows, the checkpoint it reached and the lease, in one
-- atomic step, so the progress a restarted instance resumes from always matches the counts.
-- KEYS[1]: the batch's status hash; KEYS[2]: its failed rows (hash: row number -> "id<TAB>message").
-- ARGV[1]: the checkpoint this chunk starts at (the offset its first line begins at). A record whose checkpoint differs
--   was recorded already (the chunk was re-applied after a crash) or is gone: nothing is counted twice; returns 0.
-- ARGV[2], ARGV[3]: the new checkpoint (byte offset after the chunk's last line) and that line's number.
-- ARGV[4..8]: rows consumed, successful, profiles not found, failed, created in this chunk.
-- ARGV[9]: '1' when this chunk completes the batch. ARGV[10]: now (epoch ms). ARGV[11]: lease until (epoch ms).
-- ARGV[12]: the instance that holds the lease. ARGV[13]: seconds both hashes are kept from now: Bulk:StatusRetention
--   once the batch is complete (the retention counts from completion), that plus Bulk:LeaseTimeout while it is not (the
--   record of a batch still to finish must not expire under it; see BatchStatusRepository). ARGV[14]: most failures kept.
-- ARGV[15..]: failed rows as pairs (row number, "id<TAB>message"), in file order: the first ones are kept.
if redis.call('HGET', KEYS[1], 'offset') ~= ARGV[1] then return 0 end
redis.call('HINCRBY', KEYS[1], 'consumed', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'successful', ARGV[5])
redis.call('HINCRBY', KEYS[1], 'notFound', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'failed', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'created', ARGV[8])
redis.call('HSET', KEYS[1], 'offset', ARGV[2], 'row', ARGV[3], 'updatedAt', ARGV[10], 'leaseUntil', ARGV[11],
  'owner', ARGV[12], 'status', ARGV[9] == '1' and 'complete' or 'incomplete')
if #ARGV >= 15 then
  local kept = redis.call('HLEN', KEYS[2])
  local most = tonumber(ARGV[14])
  for i = 15, #ARGV, 2 do
    if kept >= most then break end
    kept = kept + redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
-- Every chunk renews both expiries, the failures' too when this chunk has none (EXPIRE of a missing key does nothing):
-- the failed rows stay exactly as long as the status that lists them.
redis.call('EXPIRE', KEYS[1], ARGV[13])
redis.call('EXPIRE', KEYS[2], ARGV[13])
return 1
