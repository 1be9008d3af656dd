/**
 * Which dead letters a redrive picks, on a fake queue: the `type` filter must take a name's own
 * versions and nothing else, since a redrive re-runs failed handlers.
 */
import { describe, expect, it } from 'vitest';
import type { BullmqJob, BullmqJobReader } from './job-status.js';
import { redriveDeadLetters } from './redrive.js';

/** A queue whose failed list holds one job per type; `retried` names those re-queued. */
function deadLetters(types: string[]) {
  const retried: string[] = [];
  const jobs = types.map(
    (name): BullmqJob => ({
      id: `job-${name}`,
      name,
      attemptsMade: 3,
      opts: { attempts: 3 },
      timestamp: 0,
      finishedOn: 1,
      getState: async () => 'failed',
      retry: async () => {
        retried.push(name);
      },
    }),
  );
  const queue = {
    name: 'events',
    getFailed: async (start = 0, end = -1) => jobs.slice(start, end + 1),
  } as unknown as BullmqJobReader;
  return { queue, retried };
}

describe('redriveDeadLetters', () => {
  it('takes every version of a name, and not the dead letters of a longer name that starts like it', async () => {
    const { queue, retried } = deadLetters([
      'order.created.v1',
      'order.created.v12',
      'order.created.vip.v1',
      'order.created.v2x.v1',
      'order.createdx.v1',
    ]);
    expect(await redriveDeadLetters(queue, { type: 'order.created' })).toBe(2);
    expect(retried).toEqual(['order.created.v1', 'order.created.v12']);
  });

  it('takes a full type as it is', async () => {
    const { queue, retried } = deadLetters(['order.created.v1', 'order.created.v12']);
    expect(await redriveDeadLetters(queue, { type: 'order.created.v1' })).toBe(1);
    expect(retried).toEqual(['order.created.v1']);
  });
});
