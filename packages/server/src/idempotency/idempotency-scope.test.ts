import { checkIdempotencyScope } from '@ballast/server/adapter-kit';
import { describe, expect, it } from 'vitest';

describe('checkIdempotencyScope', () => {
  it('returns a string of 1–255 storable characters as it is', () => {
    expect(checkIdempotencyScope('tenant-7')).toBe('tenant-7');
    expect(checkIdempotencyScope('t'.repeat(255))).toHaveLength(255);
  });

  it('answers every other value 400 VALIDATION_FAILED naming the field and the reason', () => {
    for (const [scope, reason] of [
      [42, 'not-a-string'],
      ['', 'empty'],
      ['t'.repeat(256), 'too-long'],
      ['a\u0000b', 'invalid-characters'],
      ['\ud800', 'invalid-characters'],
    ] as const) {
      expect(() => checkIdempotencyScope(scope), reason).toThrow(
        expect.objectContaining({
          code: 'VALIDATION_FAILED',
          status: 400,
          details: { field: 'scope', reason, maxLength: 255 },
        }),
      );
    }
  });
});
