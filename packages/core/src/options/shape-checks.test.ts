import { ManualClock, systemClock } from '@ballast/core';
import { isAbortSignalLike, isClockLike, parseOptions, v } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

const fakeClock = { now: () => 0, sleep: async () => {}, setTimer: () => () => {} };

describe('isClockLike', () => {
  it("accepts Ballast's clocks and any object with now, sleep and setTimer", () => {
    expect(isClockLike(systemClock)).toBe(true);
    expect(isClockLike(new ManualClock(0))).toBe(true);
    expect(isClockLike(fakeClock)).toBe(true);
  });

  it('refuses a value missing one of the three, or one that is not a function', () => {
    const { setTimer: _setTimer, ...withoutTimer } = fakeClock;
    for (const value of [
      withoutTimer,
      { ...fakeClock, now: 0 },
      { ...fakeClock, sleep: 'later' },
      Date,
      () => 0,
      null,
      undefined,
    ]) {
      expect(isClockLike(value)).toBe(false);
    }
  });

  it('is the shape v.clock() checks, so parseOptions names the field it refuses', () => {
    const schema = v.object({ clock: v.clock() });
    expect(parseOptions(schema, { clock: fakeClock }, 'myStore()').clock).toBe(fakeClock);
    expect(() => parseOptions(schema, { clock: Date }, 'myStore()')).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'clock' }),
      }),
    );
  });
});

describe('isAbortSignalLike', () => {
  it('accepts an AbortSignal, aborted or not, and a look-alike from another realm', () => {
    expect(isAbortSignalLike(new AbortController().signal)).toBe(true);
    expect(isAbortSignalLike(AbortSignal.abort())).toBe(true);
    expect(isAbortSignalLike({ aborted: false, addEventListener: () => {} })).toBe(true);
  });

  it('refuses an AbortController, a bare object and values without the shape', () => {
    for (const value of [
      new AbortController(),
      { aborted: 'no', addEventListener: () => {} },
      { aborted: false },
      null,
      undefined,
      true,
    ]) {
      expect(isAbortSignalLike(value)).toBe(false);
    }
  });

  it('is the shape v.abortSignal() checks', () => {
    const schema = v.object({ signal: v.optional(v.abortSignal()) });
    const signal = new AbortController().signal;
    expect(parseOptions(schema, { signal }, 'myStore.get()').signal).toBe(signal);
    expect(() => parseOptions(schema, { signal: new AbortController() }, 'myStore.get()')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'signal' }) }),
    );
  });
});
