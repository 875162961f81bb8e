//! The Lua scripts the Redis store runs: each keeps one of the protocol's invariants in a
//! single atomic step on the server.

/// Sets `KEYS[1]` to `ARGV[2]` with TTL `ARGV[3]` ms unless it holds a value whose leading
/// `{"v":N` version is >= `ARGV[1]`. Never replacing a newer version is what makes late or
/// reordered fills and write-throughs harmless. With `ARGV[4]` = '1' the value is stored settled
/// (`"s":1` after its version) when the version before it is held settled. Returns what
/// `store::Put` decodes: 0 a version as new or newer held settled, 4 held not settled; 1 stored
/// settled; 2 stored, the version before it settled; 3 stored, no settled version before it.
pub(super) const SET_IF_NEWER: &str = r#"
local cur = redis.call('GET', KEYS[1])
local v = tonumber(ARGV[1])
local after = false
if cur then
  local cv = tonumber(string.match(cur, '^{"v":(%d+)'))
  if cv then
    local settled = string.find(cur, '^{"v":%d+,"s":1,') ~= nil
    if cv >= v then
      if settled then return 0 end
      return 4
    end
    after = settled and cv == v - 1
  end
end
local plain = '{"v":' .. ARGV[1] .. ','
if ARGV[4] == '1' and after and string.sub(ARGV[2], 1, #plain) == plain then
  local value = '{"v":' .. ARGV[1] .. ',"s":1,' .. string.sub(ARGV[2], #plain + 1)
  redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
  return 1
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
if after then return 2 end
return 3
"#;

/// Marks `KEYS[1]` settled if it holds version `ARGV[1]` not settled yet, keeping its TTL;
/// returns 1 if it did.
pub(super) const SETTLE: &str = r#"
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local v = string.match(cur, '^{"v":(%d+),')
if v ~= ARGV[1] or string.find(cur, '^{"v":%d+,"s":1,') then return 0 end
redis.call('SET', KEYS[1], '{"v":' .. v .. ',"s":1,' .. string.sub(cur, #v + 7), 'KEEPTTL')
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
