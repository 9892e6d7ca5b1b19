/**
 * The token-bucket script (lambdas/purge/workers-cache/token-bucket.ts): one bucket shared
 * by every Lambda invocation, refilled by elapsed time, from which a caller takes up to N
 * tokens or gives unused ones back.
 *
 * KEYS: 1 bucket. ARGV: now (ms, the caller's clock: the server's is never read, so tests
 * move time by hand), capacity (tokens), refill (tokens a minute), count (take up to it;
 * negative: give -count back).
 * Reply: {granted, tokens left, when the next token is there (ms, the caller's clock)}.
 *
 * The level is kept in sixty-thousandths of a token, so a refill of R tokens a minute adds
 * exactly R units a millisecond and all arithmetic stays in whole numbers. The key holds
 * "<level> <at>"; a missing key is a full bucket, so it expires once it would be full
 * again, plus a minute, so a caller whose clock runs behind Redis's never finds it gone
 * early. A caller whose clock is behind the stored time refills nothing (`at` only moves
 * forward), so clock skew between Lambdas never mints tokens.
 */
export const TOKEN_BUCKET_SCRIPT = `
local now = tonumber(ARGV[1])
local unit = 60000
local capacity = tonumber(ARGV[2]) * unit
local rate = tonumber(ARGV[3])
local count = tonumber(ARGV[4])
local level, at = capacity, now
local stored = redis.call('GET', KEYS[1])
if stored then
  local storedLevel, storedAt = string.match(stored, '^(%d+) (%d+)$')
  if storedLevel then
    level = math.min(capacity, tonumber(storedLevel))
    at = tonumber(storedAt)
    if now > at then
      level = math.min(capacity, level + (now - at) * rate)
      at = now
    end
  end
end
local granted = 0
if count >= 0 then
  granted = math.min(count, math.floor(level / unit))
  level = level - granted * unit
else
  level = math.min(capacity, level - count * unit)
end
if level >= capacity then
  redis.call('DEL', KEYS[1])
else
  local ttl = (at - now) + math.ceil((capacity - level) / rate) + unit
  redis.call('SET', KEYS[1], string.format('%d %d', level, at), 'PX', ttl)
end
local nextAt = at
if level < unit then nextAt = at + math.ceil((unit - level) / rate) end
return {granted, math.floor(level / unit), nextAt}
`;
