import {
  createIdempotency,
  defaultIdempotencyScope,
  type IdempotencyStore,
  isBallastError,
  MemoryIdempotencyStore,
  maxIdempotencyKeyLength,
  validateIdempotencyKey,
} from '@ballast/core';
import { idempotencyScopeError, isStorableText } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

/** The error `validateIdempotencyKey` throws for `key`; fails the test when it accepts it. */
function refusal(key: unknown) {
  try {
    validateIdempotencyKey(key);
  } catch (error) {
    if (isBallastError(error)) return error;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(key)}`);
}

describe('validateIdempotencyKey', () => {
  it('returns a key of 1 to 255 printable ASCII characters unchanged', () => {
    for (const key of [
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
      '01HZX3Q4J6R8W9Y2B5C7D0E1F3',
      'k',
      ' spaced ~ key ',
      '~'.repeat(maxIdempotencyKeyLength),
    ]) {
      expect(validateIdempotencyKey(key)).toBe(key);
    }
  });

  it('refuses with IDEMPOTENCY_KEY_INVALID (400) and says why in details.reason', () => {
    const cases: Array<[unknown, string]> = [
      ['', 'empty'],
      ['k'.repeat(maxIdempotencyKeyLength + 1), 'too-long'],
      ['line\nbreak', 'not-printable'],
      ['tab\there', 'not-printable'],
      ['del\x7f', 'not-printable'],
      ['café', 'not-printable'],
      [42, 'not-printable'],
      [undefined, 'not-printable'],
    ];
    for (const [key, reason] of cases) {
      const error = refusal(key);
      expect(error.code, String(key)).toBe('IDEMPOTENCY_KEY_INVALID');
      expect(error.status).toBe(400);
      expect(error.details.reason, String(key)).toBe(reason);
    }
    expect(refusal('k'.repeat(256)).details.maxLength).toBe(255);
  });

  it('still refuses a bad key right after accepting a good one (the last-key shortcut)', () => {
    validateIdempotencyKey('good-key');
    expect(refusal('good-key\r').details.reason).toBe('not-printable');
    expect(validateIdempotencyKey('good-key')).toBe('good-key');
  });
});

describe('maxIdempotencyKeyLength', () => {
  it('is 255, the longest key validateIdempotencyKey accepts', () => {
    expect(maxIdempotencyKeyLength).toBe(255);
    expect(validateIdempotencyKey('a'.repeat(255))).toHaveLength(255);
    expect(refusal('a'.repeat(256)).details.reason).toBe('too-long');
  });
});

describe('defaultIdempotencyScope', () => {
  it("is 'global', the scope the engine claims under when a request names none", async () => {
    expect(defaultIdempotencyScope).toBe('global');
    const memory = new MemoryIdempotencyStore();
    const scopes: string[] = [];
    const store: IdempotencyStore = {
      claim: (request) => {
        scopes.push(request.scope);
        return memory.claim(request);
      },
      complete: (request) => memory.complete(request),
      release: (request) => memory.release(request),
      extendLease: (request) => memory.extendLease(request),
      deleteExpired: (now) => memory.deleteExpired(now),
    };
    const idempotency = createIdempotency({ store });
    const first = await idempotency.run({ key: 'k-1', fingerprint: 'fp' }, async () => 'first');
    const sameScope = await idempotency.run(
      { scope: defaultIdempotencyScope, key: 'k-1', fingerprint: 'fp' },
      async () => 'second',
    );
    const otherScope = await idempotency.run(
      { scope: 'tenant-a', key: 'k-1', fingerprint: 'fp' },
      async () => 'third',
    );
    expect(scopes).toEqual(['global', 'global', 'tenant-a']);
    expect(first).toMatchObject({ outcome: 'executed', result: 'first' });
    expect(sameScope).toEqual({ outcome: 'replayed', result: 'first' });
    expect(otherScope).toMatchObject({ outcome: 'executed', result: 'third' });
  });
});

describe('isStorableText', () => {
  it('accepts text every store keeps exactly, paired surrogates (emoji) included', () => {
    for (const text of ['', 'tenant-a', 'café', 'a\u{1F600}b', '\ud83d\ude00']) {
      expect(isStorableText(text), JSON.stringify(text)).toBe(true);
    }
  });

  it('refuses a NUL, an unpaired surrogate, and anything but a string', () => {
    for (const text of ['a\u0000b', '\ud800', 'x\udfffy', '\ude00\ud83d']) {
      expect(isStorableText(text), JSON.stringify(text)).toBe(false);
    }
    for (const value of [undefined, null, 42, ['a'], { toString: () => 'a' }]) {
      expect(isStorableText(value as unknown as string)).toBe(false);
    }
  });

  it('is the rule the engine applies to scopes before any claim, with the same answer', async () => {
    const idempotency = createIdempotency({ store: new MemoryIdempotencyStore() });
    const error = await idempotency
      .run({ scope: 'tenant\u0000a', key: 'k', fingerprint: 'fp' }, async () => 'ran')
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );
    expect(isBallastError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as { details: unknown }).details).toEqual(
      (idempotencyScopeError('tenant\u0000a') as { details: unknown }).details,
    );
  });
});
