import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateSpanId, generateTraceId, isValidSpanId, isValidTraceId } from './trace-ids.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('trace ids', () => {
  it('generates valid, distinct ids', () => {
    const traces = new Set(Array.from({ length: 1_000 }, generateTraceId));
    const spans = new Set(Array.from({ length: 1_000 }, generateSpanId));
    expect(traces.size).toBe(1_000);
    expect(spans.size).toBe(1_000);
    for (const id of traces) expect(isValidTraceId(id)).toBe(true);
    for (const id of spans) expect(isValidSpanId(id)).toBe(true);
  });

  it('draws again when the random bytes are all zeros', () => {
    const real = crypto.getRandomValues.bind(crypto);
    let calls = 0;
    vi.spyOn(crypto, 'getRandomValues').mockImplementation(
      <T extends ArrayBufferView | null>(array: T): T => {
        calls += 1;
        // The first draw is all zeros (what a broken or hostile source could return).
        if (calls === 1) {
          new Uint8Array(array!.buffer, array!.byteOffset, array!.byteLength).fill(0);
          return array;
        }
        return real(array as never);
      },
    );
    // Bytes are drawn in blocks, so the zero block comes when the current one runs out; every
    // id made meanwhile, and after it, is valid.
    const ids: string[] = [];
    while (calls < 2 && ids.length < 10_000) ids.push(generateSpanId());
    expect(calls).toBe(2);
    for (const id of ids) expect(isValidSpanId(id)).toBe(true);
  });

  it('validates shape and rejects zero ids', () => {
    expect(isValidTraceId('0'.repeat(32))).toBe(false);
    expect(isValidTraceId('A'.repeat(32))).toBe(false);
    expect(isValidTraceId('a'.repeat(31))).toBe(false);
    expect(isValidSpanId('0'.repeat(16))).toBe(false);
    expect(isValidSpanId(`${'0'.repeat(15)}1`)).toBe(true);
  });
});
