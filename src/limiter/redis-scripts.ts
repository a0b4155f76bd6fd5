/**
 * Lua run atomically by Redis, on Redis's own clock (TIME), so replicas whose clocks
 * disagree still share one timeline. Budgets are GCRA: one TAT per dimension in a hash.
 * Numbers cross the Lua boundary as strings (Redis truncates Lua numbers to integers).
 */
const NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000`;

/**
 * KEYS: tat hash, leases zset, pause key, waiting zset, waiting-seen hash
 * ARGV: lease id, lease ttl ms, concurrency limit, priority, replica id, state ttl ms, poll ms, n dims,
 *       then per dim: name, cost, emission, tolerance
 * → { 1, lease } | { 0, reason, waitMs ('inf' = never) }
 */
export const ADMIT = `${NOW}
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if now < paused then return {0, 'cooldown', tostring(paused - now)} end
local prio = tonumber(ARGV[4])
local replica = ARGV[5]
local poll = ARGV[7]
redis.call('ZADD', KEYS[4], prio, replica)
redis.call('HSET', KEYS[5], replica, tostring(now))
redis.call('PEXPIRE', KEYS[4], ARGV[6])
redis.call('PEXPIRE', KEYS[5], ARGV[6])
local better = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '(' .. prio)
for _, other in ipairs(better) do
  if other ~= replica then
    local seen = tonumber(redis.call('HGET', KEYS[5], other) or '0')
    if now - seen < 2000 then return {0, 'priority', poll} end
    redis.call('ZREM', KEYS[4], other)
    redis.call('HDEL', KEYS[5], other)
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return {0, 'concurrency', poll} end
local n = tonumber(ARGV[8])
local wait = 0
local tats = {}
for i = 0, n - 1 do
  local base = 9 + i * 4
  local dim = ARGV[base]
  local cost = tonumber(ARGV[base + 1])
  local emission = tonumber(ARGV[base + 2])
  local tolerance = tonumber(ARGV[base + 3])
  if cost * emission > tolerance + 1e-9 then return {0, 'budget', 'inf'} end
  local tat = tonumber(redis.call('HGET', KEYS[1], dim) or '0')
  local nextTat = math.max(tat, now) + cost * emission
  local w = nextTat - tolerance - now
  if w > wait then wait = w end
  tats[dim] = nextTat
end
if wait > 1e-9 then return {0, 'budget', tostring(wait)} end
for dim, tat in pairs(tats) do redis.call('HSET', KEYS[1], dim, tostring(tat)) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {1, ARGV[1]}`;

/** KEYS: tat hash, leases zset. ARGV: lease id, n, then per dim: name, delta units, emission, tolerance. */
export const RELEASE = `${NOW}
redis.call('ZREM', KEYS[2], ARGV[1])
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local base = 3 + i * 4
  local dim = ARGV[base]
  local delta = tonumber(ARGV[base + 1])
  local emission = tonumber(ARGV[base + 2])
  local tolerance = tonumber(ARGV[base + 3])
  local tat = tonumber(redis.call('HGET', KEYS[1], dim) or '0')
  local nextTat
  if delta > 0 then
    -- a charge counts from now, even on an idle (or freshly restarted, empty) budget
    nextTat = math.max(tat, now) + delta * emission
  else
    nextTat = math.max(tat + delta * emission, now - tolerance)
  end
  redis.call('HSET', KEYS[1], dim, tostring(nextTat))
end
return 1`;

/** KEYS: pause key. ARGV: ms from now, state ttl ms. Only ever extends the pause. */
export const PAUSE = `${NOW}
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then redis.call('SET', KEYS[1], tostring(untilMs), 'PX', math.ceil(tonumber(ARGV[1])) + 1000) end
return tostring(math.max(untilMs, current) - now)`;

/** KEYS: tat hash. ARGV: n, then per dim: name, remaining units, emission, tolerance. Only lowers what is available. */
export const CLAMP = `${NOW}
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local base = 2 + i * 4
  local dim = ARGV[base]
  local tat = now + tonumber(ARGV[base + 3]) - tonumber(ARGV[base + 1]) * tonumber(ARGV[base + 2])
  local current = tonumber(redis.call('HGET', KEYS[1], dim) or '0')
  if tat > current then redis.call('HSET', KEYS[1], dim, tostring(tat)) end
end
return 1`;

/**
 * Heartbeat. KEYS: leases zset, replicas zset, tat hash, pause key.
 * ARGV: replica id, lease ttl ms, state ttl ms, then this replica's live lease ids.
 * Renews the leases, marks the replica alive, and returns
 * { live replicas, now, pause-until, tat hash flattened }.
 */
export const HEARTBEAT = `${NOW}
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[i]) end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3000)
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local live = redis.call('ZCARD', KEYS[2])
return {live, tostring(now), redis.call('GET', KEYS[4]) or '0', redis.call('HGETALL', KEYS[3])}`;

/**
 * Back from an outage. KEYS: tat hash. ARGV: n, then per dim: name, units used locally,
 * emission, tolerance. Redis may have restarted empty (a full burst on offer) while other
 * replicas still run on their local shares: the budget comes back at least spent, plus
 * what this replica used meanwhile.
 */
export const RESUME = `${NOW}
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local base = 2 + i * 4
  local dim = ARGV[base]
  local emission = tonumber(ARGV[base + 2])
  local tolerance = tonumber(ARGV[base + 3])
  local tat = tonumber(redis.call('HGET', KEYS[1], dim) or '0')
  local nextTat = math.max(math.max(tat, now) + tonumber(ARGV[base + 1]) * emission, now + tolerance)
  redis.call('HSET', KEYS[1], dim, tostring(nextTat))
end
return 1`;
