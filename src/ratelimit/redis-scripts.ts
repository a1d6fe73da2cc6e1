/**
 * The Lua scripts of {@link RedisRateLimiter}: one atomic script per acquire
 * and per settle, so concurrent proxies never interleave a check and its
 * reservation (Redis runs a script to completion before any other command).
 *
 * Algorithm: sliding-window log, the same as `memory-limiter.ts`.
 * Per key, two Redis keys sharing one cluster hash tag:
 * - `<prefix>{<keyId>}:req`, a sorted set: one member per admitted request
 *   (the reservation id), scored by its admission time in ms;
 * - `<prefix>{<keyId>}:tok`, a hash: reservation id → reserved tokens (only
 *   when > 0), `#sum` = their total, `#last` = time of the newest one.
 * Times come from the Redis server's `TIME`, so proxies with skewed clocks
 * share one timeline. Entries older than the window are pruned first; an
 * admitted request refreshes both keys' TTL to one window, so a key that sees
 * no traffic disappears once its last entry has expired.
 */

/** Lua helpers shared by both scripts (prepended to each). */
const COMMON = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
end

-- HMGET / HDEL in chunks: unpack() of a long list would overflow Lua's stack.
local function hmget_sum(hash, ids)
  local total = 0
  for i = 1, #ids, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #ids) do chunk[#chunk + 1] = ids[j] end
    local values = redis.call('HMGET', hash, unpack(chunk))
    for j = 1, #values do
      if values[j] then total = total + tonumber(values[j]) end
    end
  end
  return total
end

local function hdel_all(hash, ids)
  for i = 1, #ids, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #ids) do chunk[#chunk + 1] = ids[j] end
    redis.call('HDEL', hash, unpack(chunk))
  end
end

-- Removes the entries that have left the window (admitted at or before now - window).
local function prune(req, tok, now, window)
  local cutoff = now - window
  local expired = redis.call('ZRANGEBYSCORE', req, '-inf', cutoff)
  if #expired == 0 then return end
  local freed = hmget_sum(tok, expired)
  redis.call('ZREMRANGEBYSCORE', req, '-inf', cutoff)
  hdel_all(tok, expired)
  if freed ~= 0 then redis.call('HINCRBY', tok, '#sum', -freed) end
end
`;

/**
 * Acquire. KEYS: req, tok. ARGV: windowMs, rpm (0 = none), tpm (0 = none),
 * tokens, reservation id. Returns integers
 * `{allowed 0|1, reason 0 none|1 requests|2 tokens, requests, tokens,
 * requestsResetMs, tokensResetMs, retryAfterMs}` (ms rounded up).
 */
export const ACQUIRE_SCRIPT = `${COMMON}
local req, tok = KEYS[1], KEYS[2]
local window = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
local tokens = tonumber(ARGV[4])
local id = ARGV[5]
local now = now_ms()
prune(req, tok, now, window)

local count = redis.call('ZCARD', req)
local sum = tonumber(redis.call('HGET', tok, '#sum') or '0')
local last = tonumber(redis.call('HGET', tok, '#last') or '0')

local requests_refused = rpm > 0 and count >= rpm
local tokens_refused = tpm > 0 and sum + tokens > tpm
local requests_wait = 0
local tokens_wait = 0
if requests_refused then
  local entry = redis.call('ZRANGE', req, count - rpm, count - rpm, 'WITHSCORES')
  requests_wait = window - (now - tonumber(entry[2]))
end
if tokens_refused then
  if tokens > tpm then
    if sum > 0 then tokens_wait = window - (now - last) else tokens_wait = window end
  else
    local entries = redis.call('ZRANGE', req, 0, -1, 'WITHSCORES')
    local freed = 0
    for i = 1, #entries, 2 do
      local weight = redis.call('HGET', tok, entries[i])
      if weight then freed = freed + tonumber(weight) end
      if sum - freed + tokens <= tpm then
        tokens_wait = window - (now - tonumber(entries[i + 1]))
        break
      end
    end
  end
end

local allowed = not requests_refused and not tokens_refused
if allowed then
  redis.call('ZADD', req, now, id)
  count = count + 1
  if tokens > 0 then
    redis.call('HSET', tok, id, tokens, '#last', now)
    redis.call('HINCRBY', tok, '#sum', tokens)
    sum = sum + tokens
    last = now
  end
  redis.call('PEXPIRE', req, window)
  redis.call('PEXPIRE', tok, window)
end

local requests_reset = 0
if count > 0 then
  local newest = redis.call('ZRANGE', req, -1, -1, 'WITHSCORES')
  requests_reset = window - (now - tonumber(newest[2]))
end
local tokens_reset = 0
if sum > 0 then tokens_reset = window - (now - last) end

local reason = 0
if requests_refused then reason = 1 elseif tokens_refused then reason = 2 end
return {
  allowed and 1 or 0, reason, count, sum,
  math.ceil(requests_reset), math.ceil(tokens_reset),
  math.ceil(math.max(requests_wait, tokens_wait))
}
`;

/**
 * Settle. KEYS: req, tok. ARGV: windowMs, reservation id, actual tokens.
 * Returns 1 when the reservation was still in the window and now counts
 * `actual` tokens, else 0.
 */
export const SETTLE_SCRIPT = `${COMMON}
local req, tok = KEYS[1], KEYS[2]
local window = tonumber(ARGV[1])
local id = ARGV[2]
local actual = tonumber(ARGV[3])
local now = now_ms()
prune(req, tok, now, window)
local at = redis.call('ZSCORE', req, id)
if not at then return 0 end
local old = tonumber(redis.call('HGET', tok, id) or '0')
if actual > 0 then
  redis.call('HSET', tok, id, actual)
  local last = tonumber(redis.call('HGET', tok, '#last') or '0')
  if tonumber(at) > last then redis.call('HSET', tok, '#last', at) end
else
  redis.call('HDEL', tok, id)
end
if actual ~= old then redis.call('HINCRBY', tok, '#sum', actual - old) end
local ttl = redis.call('PTTL', req)
if ttl > 0 then redis.call('PEXPIRE', tok, ttl) end
return 1
`;
