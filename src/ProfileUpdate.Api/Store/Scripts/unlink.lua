-- Removes one thirdPartyId link if it still points to the given profile (compare and delete in one step), so a link
-- made again meanwhile to another profile is left alone. Used on Redis Cluster, where a profile's links live in other
-- slots than its hash (delete.lua does the same inside its one call elsewhere).
-- KEYS[1]: the link; ARGV[1]: the tntId without its location hint. Returns 1 when removed, else 0.
local target = redis.call('GET', KEYS[1])
if target and (target == ARGV[1] or string.sub(target, 1, #ARGV[1] + 1) == ARGV[1] .. '.') then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
