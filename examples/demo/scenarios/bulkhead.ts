/**
 * Seed 003 "backpressure" and "bounded work": at most 2 uploads run at once, 2 more may wait,
 * the rest are turned away at once with a typed, retryable QUEUE_FULL. Real timers, ~60 ms.
 */
import { createBulkhead, isBallastError } from '@ballast/core';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'A bulkhead bounds concurrency and queue depth',
  order: 13,
  async run(say) {
    const uploads = createBulkhead({ maxConcurrent: 2, maxQueued: 2 });
    const order: string[] = [];
    const upload = (name: string, signal?: AbortSignal) =>
      uploads.execute(
        async () => {
          order.push(name);
          say(`  ${name} starts (${uploads.active} running, ${uploads.queued} waiting)`);
          await new Promise((resolve) => setTimeout(resolve, 20));
          return name;
        },
        { signal },
      );

    say('Six uploads arrive at once; the bulkhead allows 2 running and 2 waiting:');
    const leaving = new AbortController();
    const calls = [
      upload('photo-1'),
      upload('photo-2'),
      upload('photo-3', leaving.signal),
      upload('photo-4'),
      upload('photo-5'),
      upload('photo-6'),
    ].map((call) => call.catch((error: unknown) => error));
    say(`  now: ${uploads.active} running, ${uploads.queued} waiting`);
    leaving.abort(new Error('user closed the dialog'));
    say('  photo-3 is cancelled while waiting and leaves the queue');
    const results = await Promise.all(calls);
    for (const [i, result] of results.entries()) {
      const name = `photo-${i + 1}`;
      if (isBallastError(result))
        say(`  ${name} → ${result.code} (retryable: ${result.retryable})`);
      else if (result instanceof Error) say(`  ${name} → cancelled: ${result.message}`);
      else say(`  ${name} → uploaded`);
    }
    const rejected = results.filter((result) => isBallastError(result, 'QUEUE_FULL')).length;
    say(`  start order: ${order.join(', ')}`);
    return (
      rejected === 2 &&
      order.join() === 'photo-1,photo-2,photo-4' &&
      uploads.active === 0 &&
      uploads.queued === 0
    );
  },
};

export default scenario;
