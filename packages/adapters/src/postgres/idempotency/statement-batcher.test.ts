import { describe, expect, it } from 'vitest';
import { StatementBatcher } from './statement-batcher.js';

/** A batch runner whose batches finish only when the test says so. */
function controlledRunner() {
  const batches: Array<{
    items: readonly number[];
    finish: () => void;
    fail: (error: unknown) => void;
  }> = [];
  const run = (items: readonly number[]) =>
    new Promise<readonly string[]>((resolve, reject) => {
      batches.push({
        items,
        finish: () => resolve(items.map((item) => `done ${item}`)),
        fail: reject,
      });
    });
  return { batches, run };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('sends a call at once while fewer than maxInFlight batches run', async () => {
    const { batches, run } = controlledRunner();
    const batcher = new StatementBatcher(run, 2, 64);
    const first = batcher.submit(1);
    const second = batcher.submit(2);
    expect(batches.map((batch) => batch.items)).toEqual([[1], [2]]);
    batches[0]?.finish();
    batches[1]?.finish();
    expect(await first).toBe('done 1');
    expect(await second).toBe('done 2');
  });

  it('queues calls while maxInFlight batches run and sends them together, at most maxBatchSize', async () => {
    const { batches, run } = controlledRunner();
    const batcher = new StatementBatcher(run, 1, 3);
    const calls = [1, 2, 3, 4, 5, 6].map((item) => batcher.submit(item));
    expect(batches.map((batch) => batch.items)).toEqual([[1]]);
    batches[0]?.finish();
    await settled();
    expect(batches.map((batch) => batch.items)).toEqual([[1], [2, 3, 4]]);
    batches[1]?.finish();
    await settled();
    expect(batches.map((batch) => batch.items)).toEqual([[1], [2, 3, 4], [5, 6]]);
    batches[2]?.finish();
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4, 5, 6].map((item) => `done ${item}`));
  });

  it("rejects every call of a failed batch with the batch's error, and goes on with the next", async () => {
    const { batches, run } = controlledRunner();
    const batcher = new StatementBatcher(run, 1, 64);
    const first = batcher.submit(1);
    const queued = [batcher.submit(2), batcher.submit(3)];
    const later = batcher.submit(4);
    batches[0]?.finish();
    await settled();
    const failure = new Error('connection terminated');
    batches[1]?.fail(failure);
    expect(await first).toBe('done 1');
    for (const call of queued) await expect(call).rejects.toBe(failure);
    await expect(later).rejects.toBe(failure);
    const next = batcher.submit(5);
    await settled();
    batches.at(-1)?.finish();
    expect(await next).toBe('done 5');
  });

  it('rejects a call the batch returned no outcome for', async () => {
    const batcher = new StatementBatcher(async (items: readonly number[]) => items.slice(1), 1, 64);
    const calls = [batcher.submit(1)];
    await expect(calls[0]).rejects.toThrow('no outcome');
  });
});
