import { afterEach, describe, expect, it, vi } from 'vitest';
import { createIdempotencyKey } from './idempotency-key.js';

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('createIdempotencyKey', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('is a UUID v4 from crypto.randomUUID', () => {
    expect(createIdempotencyKey()).toMatch(uuidV4);
  });

  it('takes a UUID v4 from a blob URL where randomUUID is missing (insecure contexts), and revokes it', () => {
    vi.stubGlobal('crypto', {});
    const revoke = vi.spyOn(URL, 'revokeObjectURL');
    const keys = new Set(Array.from({ length: 200 }, () => createIdempotencyKey()));
    expect(keys.size).toBe(200);
    for (const key of keys) expect(key).toMatch(uuidV4);
    expect(revoke).toHaveBeenCalledTimes(200);
    for (const [url] of revoke.mock.calls) expect(url.slice(-36)).toMatch(uuidV4);
    revoke.mockRestore();
  });

  it('falls back alike on a platform without crypto', () => {
    vi.stubGlobal('crypto', undefined);
    expect(createIdempotencyKey()).toMatch(uuidV4);
  });
});
