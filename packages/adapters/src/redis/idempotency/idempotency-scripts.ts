/**
 * The Lua side of the Redis idempotency store. Each script reads the record, checks its
 * condition and writes in one atomic step on the server, which is what makes takeover and
 * fencing safe across processes: no other command can run between the check and the write.
 *
 * A record is one JSON string: `{"f":fingerprint,"s":"i"|"c","o":owner,"l":lease,"e":expires,
 * "t":takeovers,"r":result}` (times in epoch ms from the engine's clock). Scripts never re-encode
 * a recorded result (cjson would reorder its keys); they splice the client's JSON in as it is.
 */
import { LuaScript } from './lua-script.js';

/**
 * Claims a key whose current record may be taken: absent, past its expiry, or in flight with an
 * expired lease and the same fingerprint. Otherwise returns the current record untouched.
 * KEYS[1] = key; ARGV = now, fingerprint, owner, leaseExpiresAt, expiresAt, ttlMs.
 * Returns {1, takeovers} when claimed, {0, record} when not.
 */
export const claimScript = new LuaScript(`
local now = tonumber(ARGV[1])
local current = redis.call('GET', KEYS[1])
local takeovers = 0
if current then
  local record = cjson.decode(current)
  if record.e > now then
    if record.s == 'i' and record.l <= now and record.f == ARGV[2] then
      takeovers = (record.t or 0) + 1
    else
      return {0, current}
    end
  end
end
local fresh = cjson.encode({
  f = ARGV[2], s = 'i', o = ARGV[3], l = tonumber(ARGV[4]), e = tonumber(ARGV[5]), t = takeovers
})
redis.call('SET', KEYS[1], fresh, 'PX', ARGV[6])
return {1, takeovers}
`);

/**
 * Records the result when ARGV owner still holds the key in flight and it has not expired.
 * A record this owner already completed answers 1 too: a retried completion whose first
 * attempt landed although its reply was lost.
 * KEYS[1] = key; ARGV = owner, now, resultJson, expiresAt, ttlMs. Returns 1 or 0.
 */
export const completeScript = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record.s == 'c' and record.o == ARGV[1] then return 1 end
if record.s ~= 'i' or record.o ~= ARGV[1] or record.e <= tonumber(ARGV[2]) then return 0 end
local head = cjson.encode({
  f = record.f, s = 'c', o = record.o, l = record.l, e = tonumber(ARGV[4]), t = record.t or 0
})
redis.call('SET', KEYS[1], string.sub(head, 1, -2) .. ',"r":' .. ARGV[3] .. '}', 'PX', ARGV[5])
return 1
`);

/** Deletes the key when ARGV owner still holds it in flight. KEYS[1] = key; ARGV = owner. */
export const releaseScript = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record.s ~= 'i' or record.o ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

/**
 * Moves the lease when ARGV owner still holds the key in flight; the record's TTL is kept.
 * An in-flight record holds no result, so re-encoding it loses nothing.
 * KEYS[1] = key; ARGV = owner, leaseExpiresAt.
 */
export const extendLeaseScript = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record.s ~= 'i' or record.o ~= ARGV[1] then return 0 end
record.l = tonumber(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return 1
`);

/** Proves scripting works on the server (the store's every write but a fresh claim is a script). */
export const checkScript = new LuaScript(`return 1`);
