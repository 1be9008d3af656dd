import { idempotencyScopeError, maxScopeLength } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

describe('idempotencyScopeError', () => {
  it('accepts a storable string of 1 to maxScopeLength characters', () => {
    expect(maxScopeLength).toBe(255);
    for (const scope of ['t', 'tenant-\u{1F600}', 's'.repeat(maxScopeLength)]) {
      expect(idempotencyScopeError(scope)).toBeUndefined();
    }
  });

  it("answers anything else with the client's 400, naming the reason", () => {
    const cases = [
      [42, 'not-a-string'],
      ['', 'empty'],
      ['s'.repeat(maxScopeLength + 1), 'too-long'],
      ['a\u0000b', 'invalid-characters'],
      ['a\uD800', 'invalid-characters'],
    ] as const;
    for (const [scope, reason] of cases) {
      expect(idempotencyScopeError(scope)).toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        details: { field: 'scope', reason, maxLength: maxScopeLength },
      });
    }
  });
});
