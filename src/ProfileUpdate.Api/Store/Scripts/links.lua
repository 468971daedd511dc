-- The thirdPartyIds linked to one profile, as its hash records them: one '_:l:<thirdPartyId>' field per link made
-- (written in the same HSET that records the link on the profile), and '_:3' (the last thirdPartyId seen), which is all a
-- profile written before link bookkeeping has.
-- KEYS[1]: the profile hash. Returns {exists (0|1), thirdPartyId, ...}; an id may appear twice ('_:3' and its field).
local hash = KEYS[1]
local result = { 0 }
local fields = redis.call('HKEYS', hash)
if #fields == 0 then return result end
result[1] = 1
for _, f in ipairs(fields) do
  if string.sub(f, 1, 4) == '_:l:' then result[#result + 1] = string.sub(f, 5) end
end
local last = redis.call('HGET', hash, '_:3')
if last then result[#result + 1] = last end
return result
