import { isBallastError, MemoryObjectStorage } from '@ballast/core';
import { throwIfAborted } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

function thrownBy(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('throwIfAborted', () => {
  it('returns quietly without a signal or with one not aborted', () => {
    expect(() => throwIfAborted(undefined)).not.toThrow();
    expect(() => throwIfAborted(new AbortController().signal)).not.toThrow();
  });

  it("throws ABORTED (499) with the signal's reason as cause, whatever its type", () => {
    for (const reason of [new Error('shutdown'), 'user pressed cancel', 42, undefined]) {
      const controller = new AbortController();
      controller.abort(reason);
      const error = thrownBy(() => throwIfAborted(controller.signal));
      expect(isBallastError(error, 'ABORTED'), String(reason)).toBe(true);
      expect((error as Error).cause).toBe(controller.signal.reason);
      expect(error).toMatchObject({ status: 499, retryable: false });
    }
    const timedOut = thrownBy(() => throwIfAborted(AbortSignal.abort()));
    expect((timedOut as Error).cause).toMatchObject({ name: 'AbortError' });
  });

  it('is how a storage call reports cancellation', async () => {
    const storage = new MemoryObjectStorage();
    const reason = new Error('request closed');
    await expect(
      storage.put('a', 'x', { signal: AbortSignal.abort(reason) }),
    ).rejects.toMatchObject({ code: 'ABORTED', cause: reason });
    expect(await storage.head('a')).toBeUndefined();
  });
});
