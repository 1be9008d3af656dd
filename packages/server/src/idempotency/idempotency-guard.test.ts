import {
  type IdempotencyStore,
  isBallastError,
  ManualClock,
  MemoryIdempotencyStore,
} from '@ballast/core';
import { isPromiseLike, parseOptions } from '@ballast/core/adapter-kit';
import { injectFaults } from '@ballast/core/testing';
import { idempotency } from '@ballast/server';
import { idempotencyScopeOptionSchema } from '@ballast/server/adapter-kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createIdempotencyGuard, isIdempotencyKeyHeldByMiddleware } from './idempotency-guard.js';
import type { IdempotencyDecision, IdempotencyGuardRequest } from './idempotency-guard-config.js';

/** The memory store answering a millisecond later, through promises, as a networked store does. */
const asyncStore = (): IdempotencyStore =>
  injectFaults(new MemoryIdempotencyStore(), { latency: () => 1 });

function keyed(overrides: Partial<IdempotencyGuardRequest> = {}): IdempotencyGuardRequest {
  return {
    method: 'POST',
    idempotencyKey: '"key-1"',
    required: true,
    scope: () => 'tenant-a',
    fingerprint: () => 'fp-1',
    ...overrides,
  };
}

const response = { status: 201, headers: { 'content-type': 'application/json' }, body: '{"id":1}' };

function now(decision: ReturnType<ReturnType<typeof createIdempotencyGuard>['begin']>) {
  if (isPromiseLike(decision)) throw new Error('expected a decision in the same tick');
  return decision;
}

function kindOf(decision: IdempotencyDecision) {
  return decision.kind === 'refuse' ? `refuse ${decision.error.code}` : decision.kind;
}

describe('createIdempotencyGuard', () => {
  it('decides, records and replays in the same tick over the memory store', () => {
    const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore() });
    const first = now(guard.begin(keyed()));
    if (first.kind !== 'execute') throw new Error(first.kind);
    expect(kindOf(now(guard.begin(keyed())))).toBe('refuse IDEMPOTENCY_IN_FLIGHT');
    expect(first.execution.finish(response)).toBe('recorded');
    const replay = now(guard.begin(keyed()));
    expect(replay).toMatchObject({ kind: 'replay', recorded: { status: 201 } });
    expect(kindOf(now(guard.begin(keyed({ fingerprint: () => 'fp-2' }))))).toBe(
      'refuse IDEMPOTENCY_KEY_REUSED',
    );
    expect(kindOf(now(guard.begin(keyed({ idempotencyKey: null }))))).toBe(
      'refuse IDEMPOTENCY_KEY_MISSING',
    );
    expect(kindOf(now(guard.begin(keyed({ idempotencyKey: '"a", "b"' }))))).toBe(
      'refuse IDEMPOTENCY_KEY_INVALID',
    );
    expect(kindOf(now(guard.begin(keyed({ method: 'GET' }))))).toBe('pass');
  });

  it('knows which keys its executions hold, per scope, until each one ends, in any order', () => {
    // One store per execution, so two executions can hold one key in one scope, as a takeover
    // of a holder that is still running does.
    const execute = (scope: string, key: string) => {
      const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore() });
      const decision = now(guard.begin(keyed({ idempotencyKey: key, scope: () => scope })));
      if (decision.kind !== 'execute') throw new Error(decision.kind);
      return decision.execution;
    };
    const first = execute('tenant-a', 'held-1');
    const second = execute('tenant-a', 'held-1');
    const otherScope = execute('tenant-b', 'held-1');
    const otherKey = execute('tenant-a', 'held-2');
    expect(isIdempotencyKeyHeldByMiddleware('tenant-a', 'held-1')).toBe(true);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-b', 'held-1')).toBe(true);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-c', 'held-1')).toBe(false);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-a', 'held-3')).toBe(false);

    first.finish(response);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-a', 'held-1')).toBe(true);
    // Ending an execution twice lets go once: the others keep their holds.
    first.abandon('again');
    expect(isIdempotencyKeyHeldByMiddleware('tenant-a', 'held-2')).toBe(true);
    second.abandon('client-closed');
    expect(isIdempotencyKeyHeldByMiddleware('tenant-a', 'held-1')).toBe(false);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-b', 'held-1')).toBe(true);
    otherKey.finish(response);
    otherScope.finish(response);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-b', 'held-1')).toBe(false);
    expect(isIdempotencyKeyHeldByMiddleware('tenant-a', 'held-2')).toBe(false);
  });

  it('releases in the same tick: a 5xx, an uncapturable body, an abandoned execution', () => {
    const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore() });
    const run = () => {
      const decision = now(guard.begin(keyed()));
      if (decision.kind !== 'execute') throw new Error(decision.kind);
      return decision.execution;
    };
    expect(run().finish({ ...response, status: 503 })).toBe('released');
    expect(run().finish({ ...response, body: null })).toBe('released');
    expect(run().abandon('client-closed')).toBeUndefined();
    expect(now(guard.begin(keyed())).kind).toBe('execute');
  });

  it('answers the same through promises when the store, scope or fingerprint is asynchronous', async () => {
    const clock = new ManualClock(0);
    const guards = [
      createIdempotencyGuard({ store: asyncStore(), clock }),
      createIdempotencyGuard({ store: new MemoryIdempotencyStore(), clock }),
    ];
    const requests = [keyed(), keyed({ scope: async () => 'tenant-a' })];
    for (const [index, guard] of guards.entries()) {
      const request = requests[index] as IdempotencyGuardRequest;
      const first = guard.begin(request);
      expect(first).toBeInstanceOf(Promise);
      const decision = await first;
      if (decision.kind !== 'execute') throw new Error(decision.kind);
      expect(kindOf(await guard.begin(request))).toBe('refuse IDEMPOTENCY_IN_FLIGHT');
      expect(await decision.execution.finish(response)).toBe('recorded');
      expect((await guard.begin(request)).kind).toBe('replay');
    }
  });

  it('refuses with 503 when the store fails, whether it throws or rejects', async () => {
    class UnreachableStore extends MemoryIdempotencyStore {
      override claim(): never {
        throw new Error('connection reset');
      }
    }
    const thrown = createIdempotencyGuard({ store: new UnreachableStore() });
    expect(kindOf(now(thrown.begin(keyed())))).toBe('refuse IDEMPOTENCY_STORE_UNAVAILABLE');
    const rejected = createIdempotencyGuard({
      store: injectFaults(new MemoryIdempotencyStore(), {
        failOn: (call) => call.method === 'claim',
      }),
    });
    expect(kindOf(await rejected.begin(keyed()))).toBe('refuse IDEMPOTENCY_STORE_UNAVAILABLE');
  });

  it('lets an error that is not Ballast’s through, thrown or rejected as it came', async () => {
    const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore() });
    const bug = new TypeError('tenant of undefined');
    expect(() =>
      guard.begin(
        keyed({
          scope: () => {
            throw bug;
          },
        }),
      ),
    ).toThrow(bug);
    await expect(guard.begin(keyed({ scope: async () => Promise.reject(bug) }))).rejects.toBe(bug);
  });

  it('releases the key when anything after the claim throws or rejects inside run()', async () => {
    for (const store of [new MemoryIdempotencyStore(), asyncStore()]) {
      const guard = createIdempotencyGuard({ store });
      const claim = async () => {
        const decision = await guard.begin(keyed());
        if (decision.kind !== 'execute') throw new Error(kindOf(decision));
        return decision.execution;
      };
      const boom = new TypeError('Request object that has already been used');
      const thrown = await claim();
      expect(() =>
        thrown.run(() => {
          throw boom;
        }),
      ).toThrow(boom);
      // A store that answers later gets the release before the next claim can see the key.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const rejected = await claim();
      await expect(rejected.run(async () => Promise.reject(boom))).rejects.toBe(boom);
      const fine = await claim();
      expect(await fine.run(async () => 'handed on')).toBe('handed on');
      expect(fine.settled).toBe(false);
      expect(await fine.finish(response)).toBe('recorded');
    }
  });

  it('never records 401, 403, 407, 408 or 429 by default; releaseStatuses changes the list', () => {
    const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore() });
    for (const status of [401, 403, 407, 408, 429]) {
      const decision = now(guard.begin(keyed()));
      if (decision.kind !== 'execute') throw new Error(kindOf(decision));
      expect(decision.execution.finish({ ...response, status })).toBe('released');
    }
    const custom = createIdempotencyGuard({
      store: new MemoryIdempotencyStore(),
      releaseStatuses: [409],
    });
    const conflict = now(custom.begin(keyed()));
    if (conflict.kind !== 'execute') throw new Error(kindOf(conflict));
    expect(conflict.execution.finish({ ...response, status: 409 })).toBe('released');
    const unauthorized = now(custom.begin(keyed()));
    if (unauthorized.kind !== 'execute') throw new Error(kindOf(unauthorized));
    expect(unauthorized.execution.finish({ ...response, status: 401 })).toBe('recorded');
    expect(() =>
      createIdempotencyGuard({ store: new MemoryIdempotencyStore(), releaseStatuses: [99] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('refuses a scope that is not a string of 1–255 characters with 400, before any claim', async () => {
    const store = new MemoryIdempotencyStore();
    const guard = createIdempotencyGuard({ store });
    for (const scope of ['', 's'.repeat(256), undefined, 42]) {
      const decision = await guard.begin(keyed({ scope: () => scope as string }));
      expect(decision).toMatchObject({
        kind: 'refuse',
        error: { code: 'VALIDATION_FAILED', status: 400, details: { field: 'scope' } },
      });
    }
    expect(now(guard.begin(keyed({ scope: () => 's'.repeat(255) }))).kind).toBe('execute');
  });

  it('refuses with 400 a scope holding a NUL or an unpaired surrogate, which no store keeps as given', async () => {
    const store = new MemoryIdempotencyStore();
    const guard = createIdempotencyGuard({ store });
    for (const scope of ['tenant\u0000a', 'tenant-\uD800', '\uDFFF']) {
      const decision = await guard.begin(keyed({ scope: () => scope }));
      expect(decision).toMatchObject({
        kind: 'refuse',
        error: {
          code: 'VALIDATION_FAILED',
          status: 400,
          details: { field: 'scope', reason: 'invalid-characters' },
        },
      });
    }
    expect(now(guard.begin(keyed({ scope: () => 'tenant-\u{1F600}' }))).kind).toBe('execute');
  });

  it('refuses JSON nested deeper than maxJsonDepth with 400 before any claim', async () => {
    const { fingerprintRequestParts } = await import('./request-fingerprint.js');
    const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore(), maxJsonDepth: 3 });
    const body = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const request = (depth: number) =>
      keyed({
        fingerprint: () =>
          fingerprintRequestParts(
            { method: 'POST', path: '/', contentType: 'application/json', body: body(depth) },
            { maxDepth: guard.maxJsonDepth },
          ),
      });
    expect(await guard.begin(request(4))).toMatchObject({
      kind: 'refuse',
      error: { code: 'VALIDATION_FAILED', details: { reason: 'too-deep', maxDepth: 3 } },
    });
    expect((await guard.begin(request(3))).kind).toBe('execute');
  });
});

describe('idempotencyScopeOptionSchema', () => {
  const schema = z.strictObject({ scope: idempotencyScopeOptionSchema });
  const parse = (input: unknown) => parseOptions(schema, input, 'myIdempotency()');

  it("accepts a function of the request or the explicit string 'global'", () => {
    const byTenant = (request: { tenant: string }) => request.tenant;
    expect(parse({ scope: byTenant }).scope).toBe(byTenant);
    expect(parse({ scope: 'global' }).scope).toBe('global');
  });

  it('has no default: a missing scope, or a tenant id given as a string, is refused and explained', () => {
    for (const input of [{}, { scope: undefined }, { scope: 'tenant-a' }, { scope: null }]) {
      let error: unknown;
      try {
        parse(input);
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), JSON.stringify(input)).toBe(true);
      expect((error as { details: { field?: string } }).details.field).toBe('scope');
      expect((error as Error).message).toContain("or 'global' to share keys between all callers");
    }
  });

  it('is the rule the idempotency middleware applies to its own scope option', () => {
    expect(() => idempotency({ store: new MemoryIdempotencyStore() } as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'scope' }),
      }),
    );
    expect(() =>
      idempotency({ store: new MemoryIdempotencyStore(), scope: 'global' }),
    ).not.toThrow();
  });
});
