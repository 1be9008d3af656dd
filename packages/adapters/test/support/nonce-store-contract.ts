/**
 * What every `NonceStore` must do, run against memory, Postgres (server and PGlite) and Redis:
 * the first sighting of a nonce is accepted and every later one refused until it expires, even
 * when the copies arrive at once; and a verifier using the store refuses a replayed request
 * even when another verifier instance (another process, in production) accepted the original.
 */
import { createSigner, createVerifier, isBallastError, type NonceStore } from '@ballast/core';
import { describe, expect, it } from 'vitest';

export interface NonceStoreHarness {
  /** A store; every call may return the same store or a new one on the same backend. */
  store(): NonceStore;
  /** The store's notion of now, epoch ms. */
  now(): number;
  /** Lets `ms` pass for the store (a manual clock, or a short real wait for native expiry). */
  pass(ms: number): Promise<void>;
}

export function describeNonceStoreContract(name: string, harness: () => NonceStoreHarness) {
  describe(`${name}: NonceStore contract`, () => {
    const unique = (label: string) => `${label}-${globalThis.crypto.randomUUID()}`;

    it('accepts a first sighting and refuses the next ones', async () => {
      const h = harness();
      const store = h.store();
      const nonce = unique('once');
      expect(await store.checkAndStore(nonce, h.now() + 60_000)).toBe(true);
      expect(await store.checkAndStore(nonce, h.now() + 60_000)).toBe(false);
      expect(await h.store().checkAndStore(nonce, h.now() + 60_000)).toBe(false);
      expect(await store.checkAndStore(unique('other'), h.now() + 60_000)).toBe(true);
    });

    it('accepts exactly one of many simultaneous copies', async () => {
      const h = harness();
      const nonce = unique('race');
      const answers = await Promise.all(
        Array.from({ length: 25 }, () => h.store().checkAndStore(nonce, h.now() + 60_000)),
      );
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('forgets a nonce once it expires', async () => {
      const h = harness();
      const store = h.store();
      const nonce = unique('expiring');
      // Half a second: with 20 ms, a loaded machine let the nonce expire between the first two
      // calls against a real Redis, and the second was accepted.
      expect(await store.checkAndStore(nonce, h.now() + 500)).toBe(true);
      expect(await store.checkAndStore(nonce, h.now() + 500)).toBe(false);
      await h.pass(600);
      expect(await store.checkAndStore(nonce, h.now() + 60_000)).toBe(true);
      expect(await store.checkAndStore(nonce, h.now() + 60_000)).toBe(false);
    });

    it('makes two verifier instances refuse a request replayed from one to the other', async () => {
      const h = harness();
      const secret = 'nonce-contract-secret-0123456789-abcdef';
      const clock = { now: () => h.now(), sleep: async () => {}, setTimer: () => () => {} };
      const signer = createSigner({ secret, canonical: 'strict', nonce: true, clock });
      const [edgeA, edgeB] = [1, 2].map(() =>
        createVerifier({ secret, canonical: 'strict', nonceStore: h.store(), clock }),
      );
      const body = '{"amount":100}';
      const headers = { 'x-tenant-id': 't-1' };
      const signature = await signer.sign({ method: 'POST', path: '/pay', headers, body });
      const request = { method: 'POST', path: '/pay', body, headers: { ...headers, ...signature } };
      expect((await edgeA!.verify(request)).nonce).toBe(signature['x-nonce']);
      try {
        await edgeB!.verify(request);
        expect.unreachable();
      } catch (error) {
        expect(isBallastError(error, 'SIGNATURE_REPLAYED')).toBe(true);
      }
    });
  });
}
