//! The Lua scripts the Redis store runs: each keeps one of the protocol's invariants in a
//! single atomic step on the server.

/// Sets `KEYS[1]` to `ARGV[2]` with TTL `ARGV[3]` ms unless it holds a value whose leading
/// `{"v":N` version is >= `ARGV[1]`. Never replacing a newer version is what makes late or
/// reordered fills and write-throughs harmless.
pub(super) const SET_IF_NEWER: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '^{"v":(%d+)'))
  if v and v >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"#;

/// Reads (ARGV[2] = '0') or increments (ARGV[2] = '1') the generation `KEYS[1]`, refreshing its
/// TTL (ARGV[1] ms). A missing generation starts at the server's clock in microseconds, never at
/// 1, so a generation that expired or was evicted cannot come back to a value that old entries
/// were tagged with. Returned as a string: Lua numbers are doubles.
pub(super) const GENERATION: &str = r#"
if not redis.call('GET', KEYS[1]) then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], t[1] .. string.sub('000000' .. t[2], -6))
end
if ARGV[2] == '1' then redis.call('INCR', KEYS[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return redis.call('GET', KEYS[1])
"#;

/// Deletes `KEYS[1]` only if it still holds `ARGV[1]`, returning 1 if it did: a lease only if it
/// still holds our token (one that expired and was taken by another process is not ours to
/// release), a soft purge's mark only if it is still that purge's (one request takes it).
pub(super) const DELETE_IF: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Lua that sets `now` to the server's clock in milliseconds.
macro_rules! lua_now_ms {
    () => {
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    };
}

/// Announces `ARGV[1]` at the sorted set `KEYS[1]` until `ARGV[2]` ms from now (the server's
/// clock), dropping announcements whose time has passed; the set lives as long as its newest.
pub(super) const ANNOUNCE: &str = concat!(
    lua_now_ms!(),
    r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"#
);

/// How many announcements at `KEYS[1]` are current, `ARGV[1]` (if given) left out.
pub(super) const ANNOUNCED: &str = concat!(
    lua_now_ms!(),
    r#"
local n = redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
if ARGV[1] and ARGV[1] ~= '' then
  local own = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if own and tonumber(own) > now then n = n - 1 end
end
return n
"#
);

/// Removes the announcement `ARGV[1]` from `KEYS[1]` (a script: the sorted-set commands are
/// left out of the client's build).
pub(super) const RETIRE: &str = r#"
return redis.call('ZREM', KEYS[1], ARGV[1])
"#;
