/**
 * The contract every `IdempotencyStore` must meet, as one reusable suite. The engine relies on
 * exactly these properties (atomic claim, fencing by owner token, takeover only of a same-request
 * lease, expiry as absence), so a store that passes here can be swapped in without the engine
 * noticing; a store that fails would let a duplicate run twice or a stale holder overwrite a
 * result.
 */
import type { ClaimOutcome, ClaimRequest, IdempotencyStore } from '@ballast/core';
import { beforeEach, describe, expect, it } from 'vitest';

/** How a store's implementation differs where the contract allows it. */
export interface StoreContractOptions {
  /**
   * The store expires records natively (Redis PX) and `deleteExpired` may return 0; the suite
   * then checks only that expired records behave as absent.
   */
  readonly nativeExpiry?: boolean;
}

const second = 1_000;
const hour = 3_600 * second;

let counter = 0;
/** A key no other test (or earlier run against the same database) has used. */
function freshKey(label: string): string {
  counter++;
  return `${label}-${counter}-${Math.random().toString(36).slice(2, 10)}`;
}

function claimRequest(
  overrides: Partial<ClaimRequest> & { key: string; now: number },
): ClaimRequest {
  return {
    scope: 'tenant-a',
    fingerprint: 'fp-1',
    ownerToken: globalThis.crypto.randomUUID(),
    leaseExpiresAt: overrides.now + 30 * second,
    expiresAt: overrides.now + 24 * hour,
    ...overrides,
  };
}

/**
 * Registers the store contract suite. `makeStore` is called before each test; tests use fresh
 * keys, so a store shared between tests (one table, one prefix) is fine. The caller owns set-up
 * and clean-up of the backing service.
 *
 * @example
 * ```ts
 * describeIdempotencyStoreContract('MemoryIdempotencyStore', () => new MemoryIdempotencyStore());
 * ```
 */
export function describeIdempotencyStoreContract(
  name: string,
  makeStore: () => IdempotencyStore | Promise<IdempotencyStore>,
  options: StoreContractOptions = {},
): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    let store: IdempotencyStore;
    let now: number;
    beforeEach(async () => {
      store = await makeStore();
      now = Date.now();
    });

    it('claims an absent key, then reports it in flight with the holder’s lease', async () => {
      const key = freshKey('absent');
      const first = claimRequest({ key, now });
      expect(await store.claim(first)).toEqual({ kind: 'claimed', takeover: false });
      const second = await store.claim(claimRequest({ key, now: now + 1 }));
      expect(second).toEqual({
        kind: 'in-flight',
        fingerprint: 'fp-1',
        leaseExpiresAt: first.leaseExpiresAt,
      });
    });

    it('lets exactly one of 100 concurrent claims of one absent key win', async () => {
      const key = freshKey('race');
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, () => store.claim(claimRequest({ key, now }))),
      );
      expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'in-flight')).toHaveLength(99);
    });

    it('records a result and replays it unchanged (key order, unicode, nesting)', async () => {
      const key = freshKey('replay');
      const claim = claimRequest({ key, now });
      await store.claim(claim);
      const result = {
        status: 201,
        headers: { 'content-type': 'application/json', location: '/sales/7' },
        body: '{"z":1,"a":"ñandú ✓"}',
        nested: { zeta: [3, 2, 1], alpha: null, mid: { b: true, a: false } },
      };
      const completed = await store.complete({
        scope: claim.scope,
        key,
        ownerToken: claim.ownerToken,
        result,
        now: now + 10,
        expiresAt: now + 24 * hour,
      });
      expect(completed).toBe(true);
      const replay = await store.claim(claimRequest({ key, now: now + 20 }));
      expect(replay).toEqual({ kind: 'completed', fingerprint: 'fp-1', result });
      // Same bytes, not only deep equality: a replayed body must match the original exactly.
      expect(JSON.stringify((replay as { result: unknown }).result)).toBe(JSON.stringify(result));
    });

    it('keeps the JSON text the caller wrote (resultJson) instead of serialising the result again', async () => {
      const key = freshKey('result-json');
      const claim = claimRequest({ key, now });
      await store.claim(claim);
      // JSON.stringify throws on a bigint: only a store that takes the given text records this.
      const completed = await store.complete({
        scope: claim.scope,
        key,
        ownerToken: claim.ownerToken,
        result: { amount: 10n } as never,
        resultJson: '{"status":201,"body":"{\\"amount\\":\\"10\\"}"}',
        now: now + 10,
        expiresAt: now + 24 * hour,
      });
      expect(completed).toBe(true);
      expect(await store.claim(claimRequest({ key, now: now + 20 }))).toEqual({
        kind: 'completed',
        fingerprint: 'fp-1',
        result: { status: 201, body: '{"amount":"10"}' },
      });
    });

    it('fences complete, release and extendLease on the owner token', async () => {
      const key = freshKey('fence');
      const claim = claimRequest({ key, now });
      await store.claim(claim);
      const stranger = { scope: claim.scope, key, ownerToken: 'not-the-owner' };
      expect(
        await store.complete({
          ...stranger,
          result: { x: 1 },
          now: now + 1,
          expiresAt: now + hour,
        }),
      ).toBe(false);
      expect(await store.release(stranger)).toBe(false);
      expect(await store.extendLease({ ...stranger, leaseExpiresAt: now + hour })).toBe(false);
      // Nothing changed: still in flight with the owner's lease.
      expect(await store.claim(claimRequest({ key, now: now + 2 }))).toEqual({
        kind: 'in-flight',
        fingerprint: 'fp-1',
        leaseExpiresAt: claim.leaseExpiresAt,
      });
      expect(
        await store.complete({
          scope: claim.scope,
          key,
          ownerToken: claim.ownerToken,
          result: { x: 2 },
          now: now + 3,
          expiresAt: now + hour,
        }),
      ).toBe(true);
      expect(await store.claim(claimRequest({ key, now: now + 4 }))).toEqual({
        kind: 'completed',
        fingerprint: 'fp-1',
        result: { x: 2 },
      });
    });

    it('releases a held key so the next claim runs fresh', async () => {
      const key = freshKey('release');
      const claim = claimRequest({ key, now });
      await store.claim(claim);
      expect(await store.release({ scope: claim.scope, key, ownerToken: claim.ownerToken })).toBe(
        true,
      );
      expect(await store.claim(claimRequest({ key, now: now + 1 }))).toEqual({
        kind: 'claimed',
        takeover: false,
      });
    });

    it('never lets a late release or a second completion touch a recorded result; a retried completion by its owner answers true', async () => {
      const key = freshKey('late');
      const claim = claimRequest({ key, now });
      await store.claim(claim);
      const owner = { scope: claim.scope, key, ownerToken: claim.ownerToken };
      expect(
        await store.complete({ ...owner, result: 'first', now: now + 1, expiresAt: now + hour }),
      ).toBe(true);
      expect(await store.release(owner)).toBe(false);
      expect(await store.extendLease({ ...owner, leaseExpiresAt: now + hour })).toBe(false);
      // The same owner completing again is a retried record whose first answer was lost: it
      // answers true, and the first result stands. Another owner is fenced.
      expect(
        await store.complete({ ...owner, result: 'second', now: now + 2, expiresAt: now + hour }),
      ).toBe(true);
      expect(
        await store.complete({
          ...owner,
          ownerToken: 'someone-else',
          result: 'third',
          now: now + 2,
          expiresAt: now + hour,
        }),
      ).toBe(false);
      expect(await store.claim(claimRequest({ key, now: now + 3 }))).toEqual({
        kind: 'completed',
        fingerprint: 'fp-1',
        result: 'first',
      });
    });

    it('extends the lease of its holder', async () => {
      const key = freshKey('extend');
      const claim = claimRequest({ key, now, leaseExpiresAt: now + 5 * second });
      await store.claim(claim);
      const extended = now + 60 * second;
      expect(
        await store.extendLease({
          scope: claim.scope,
          key,
          ownerToken: claim.ownerToken,
          leaseExpiresAt: extended,
        }),
      ).toBe(true);
      // Past the original lease, before the extended one: still in flight, not taken over.
      expect(await store.claim(claimRequest({ key, now: now + 10 * second }))).toEqual({
        kind: 'in-flight',
        fingerprint: 'fp-1',
        leaseExpiresAt: extended,
      });
    });

    it('hands an expired lease to a claimant of the same request, and fences the old holder', async () => {
      const key = freshKey('takeover');
      const old = claimRequest({ key, now, leaseExpiresAt: now + 5 * second });
      await store.claim(old);
      const later = now + 6 * second;
      const next = claimRequest({ key, now: later });
      expect(await store.claim(next)).toEqual({ kind: 'claimed', takeover: true });
      const oldOwner = { scope: old.scope, key, ownerToken: old.ownerToken };
      expect(
        await store.complete({
          ...oldOwner,
          result: 'stale',
          now: later + 1,
          expiresAt: later + hour,
        }),
      ).toBe(false);
      expect(await store.extendLease({ ...oldOwner, leaseExpiresAt: later + hour })).toBe(false);
      expect(await store.release(oldOwner)).toBe(false);
      expect(
        await store.complete({
          scope: next.scope,
          key,
          ownerToken: next.ownerToken,
          result: 'fresh',
          now: later + 2,
          expiresAt: later + hour,
        }),
      ).toBe(true);
      expect(await store.claim(claimRequest({ key, now: later + 3 }))).toEqual({
        kind: 'completed',
        fingerprint: 'fp-1',
        result: 'fresh',
      });
    });

    it('lets exactly one of 50 concurrent claimants take over an expired lease', async () => {
      const key = freshKey('takeover-race');
      await store.claim(claimRequest({ key, now, leaseExpiresAt: now + second }));
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, () => store.claim(claimRequest({ key, now: now + 2 * second }))),
      );
      const winners = outcomes.filter((o) => o.kind === 'claimed');
      expect(winners).toEqual([{ kind: 'claimed', takeover: true }]);
      expect(outcomes.filter((o) => o.kind === 'in-flight')).toHaveLength(49);
    });

    it('never hands a key to a request with another fingerprint, in flight or completed', async () => {
      const key = freshKey('mismatch');
      const claim = claimRequest({ key, now, leaseExpiresAt: now + second });
      await store.claim(claim);
      const other = (at: number) => claimRequest({ key, now: at, fingerprint: 'fp-other' });
      // Lease over, but the request differs: the engine must be able to answer "key reused".
      expect(await store.claim(other(now + 5 * second))).toEqual({
        kind: 'in-flight',
        fingerprint: 'fp-1',
        leaseExpiresAt: claim.leaseExpiresAt,
      });
      // The original holder was not displaced and can still complete.
      expect(
        await store.complete({
          scope: claim.scope,
          key,
          ownerToken: claim.ownerToken,
          result: 'original',
          now: now + 6 * second,
          expiresAt: now + hour,
        }),
      ).toBe(true);
      expect(await store.claim(other(now + 7 * second))).toEqual({
        kind: 'completed',
        fingerprint: 'fp-1',
        result: 'original',
      });
    });

    it('never takes over a completed key, however old its lease', async () => {
      const key = freshKey('completed-lease');
      const claim = claimRequest({ key, now, leaseExpiresAt: now + second });
      await store.claim(claim);
      await store.complete({
        scope: claim.scope,
        key,
        ownerToken: claim.ownerToken,
        result: 'done',
        now: now + 10,
        expiresAt: now + 2 * hour,
      });
      expect(await store.claim(claimRequest({ key, now: now + hour }))).toEqual({
        kind: 'completed',
        fingerprint: 'fp-1',
        result: 'done',
      });
    });

    it('treats a record past its expiry as absent, whatever its fingerprint or state', async () => {
      const inFlightKey = freshKey('expired-in-flight');
      await store.claim(claimRequest({ key: inFlightKey, now, expiresAt: now + 10 * second }));
      expect(
        await store.claim(
          claimRequest({ key: inFlightKey, now: now + 11 * second, fingerprint: 'fp-other' }),
        ),
      ).toEqual({ kind: 'claimed', takeover: false });

      const doneKey = freshKey('expired-completed');
      const claim = claimRequest({ key: doneKey, now });
      await store.claim(claim);
      await store.complete({
        scope: claim.scope,
        key: doneKey,
        ownerToken: claim.ownerToken,
        result: 'old',
        now: now + 1,
        expiresAt: now + 10 * second,
      });
      const before = await store.claim(claimRequest({ key: doneKey, now: now + 9 * second }));
      expect(before).toEqual({ kind: 'completed', fingerprint: 'fp-1', result: 'old' });
      const reuse = claimRequest({ key: doneKey, now: now + 11 * second });
      expect(await store.claim(reuse)).toEqual({ kind: 'claimed', takeover: false });
      // The old owner cannot complete the reused key.
      expect(
        await store.complete({
          scope: claim.scope,
          key: doneKey,
          ownerToken: claim.ownerToken,
          result: 'stale',
          now: now + 12 * second,
          expiresAt: now + hour,
        }),
      ).toBe(false);
    });

    it('keeps scopes apart: the same key in two tenants is two keys', async () => {
      const key = freshKey('scoped');
      const a = claimRequest({ key, now, scope: 'tenant-a' });
      const b = claimRequest({ key, now, scope: 'tenant-b', fingerprint: 'fp-b' });
      expect(await store.claim(a)).toEqual({ kind: 'claimed', takeover: false });
      expect(await store.claim(b)).toEqual({ kind: 'claimed', takeover: false });
      // One tenant's owner token does nothing to the other tenant's key.
      expect(await store.release({ scope: 'tenant-b', key, ownerToken: a.ownerToken })).toBe(false);
      await store.complete({
        scope: 'tenant-a',
        key,
        ownerToken: a.ownerToken,
        result: 'a',
        now: now + 1,
        expiresAt: now + hour,
      });
      const outcomeB: ClaimOutcome = await store.claim(
        claimRequest({ key, now: now + 2, scope: 'tenant-b', fingerprint: 'fp-b' }),
      );
      expect(outcomeB).toEqual({
        kind: 'in-flight',
        fingerprint: 'fp-b',
        leaseExpiresAt: b.leaseExpiresAt,
      });
      // Scope and key are not concatenated ambiguously.
      const joinedA = claimRequest({ key: `x:${key}`, now, scope: 'tenant' });
      const joinedB = claimRequest({ key, now, scope: 'tenant:x' });
      expect(await store.claim(joinedA)).toEqual({ kind: 'claimed', takeover: false });
      expect(await store.claim(joinedB)).toEqual({ kind: 'claimed', takeover: false });
    });

    it('sweeps expired records and keeps live ones', async () => {
      // An epoch of its own (2001) so records other tests left behind are not in the sweep.
      const t0 = Date.UTC(2001, 0, 1);
      const expiring = [freshKey('sweep-a'), freshKey('sweep-b'), freshKey('sweep-c')];
      const live = freshKey('sweep-live');
      const claims = expiring.map((key) =>
        claimRequest({ key, now: t0, expiresAt: t0 + 10 * second }),
      );
      for (const claim of claims) await store.claim(claim);
      // Completed and in-flight records both expire.
      const done = claims[2];
      if (done === undefined) throw new Error('unreachable');
      await store.complete({
        scope: done.scope,
        key: done.key,
        ownerToken: done.ownerToken,
        result: 'done',
        now: t0 + 1,
        expiresAt: t0 + 10 * second,
      });
      await store.claim(claimRequest({ key: live, now: t0, expiresAt: t0 + hour }));
      const swept = await store.deleteExpired(t0 + 20 * second);
      if (options.nativeExpiry) expect(swept).toBeGreaterThanOrEqual(0);
      else expect(swept).toBe(3);
      for (const key of expiring) {
        expect(
          await store.claim(claimRequest({ key, now: t0 + 21 * second, fingerprint: 'fp-new' })),
        ).toEqual({ kind: 'claimed', takeover: false });
      }
      expect(await store.claim(claimRequest({ key: live, now: t0 + 21 * second }))).toMatchObject({
        kind: 'in-flight',
      });
    });
  });
}
