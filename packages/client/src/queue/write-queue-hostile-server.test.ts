/**
 * The write queue against a server that answers badly: a `Retry-After` no date can hold, a
 * conflict answer whose version cannot be sent back, and a user who removes a write while it is
 * on the wire. None of them may stall the queue for ever, loop, or bring a removed write back.
 */
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../fetch/create-client.js';
import { keepMine } from './conflict-resolvers.js';
import { createMemoryQueueStorage } from './queue-storage.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';
import type { WriteQueueOptions } from './write-queue-options.js';

const open: WriteQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

/** A queue on a manual clock over a server that answers with `answer` (by request number). */
function queueOver(
  answer: (attempt: number) => Response | Promise<Response>,
  options: Partial<WriteQueueOptions> = {},
) {
  const clock = new ManualClock(1_000_000);
  const sent: (string | null)[] = [];
  const client = createClient({
    baseUrl: 'http://api.test',
    clock,
    retry: { writes: 0 },
    fetch: async (_url, init) => {
      sent.push(new Headers(init?.headers).get('if-match'));
      return answer(sent.length);
    },
  });
  const queue = createWriteQueue({
    client,
    storage: createMemoryQueueStorage(),
    lock: 'lease',
    clock,
    ...options,
  });
  open.push(queue);
  return { clock, queue, sent };
}

const problem = (status: number, body: Record<string, unknown>, headers = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });
const created = () => new Response('{"id":1}', { status: 201 });
const hour = 3_600_000;

describe('createWriteQueue against a hostile server', () => {
  for (const [label, first] of [
    ['a Retry-After of 10²⁰ seconds', () => problem(503, {}, { 'retry-after': '1'.repeat(21) })],
    [
      'a problem member retryAfterMs that is not a number',
      () => problem(503, { retryAfterMs: 'x' }),
    ],
  ] as const) {
    it(`${label} leaves a valid next attempt, at most a day away, not a queue stalled for ever`, async () => {
      const { clock, queue, sent } = queueOver((attempt) => (attempt === 1 ? first() : created()), {
        flushIntervalMs: 24 * hour, // the wake-up after the backoff is what must come
      });
      expect(await queue.send({ path: '/sales', body: {} })).toMatchObject({ queued: true });
      const [write] = await queue.list();
      const wait = (write?.nextAttemptAt?.getTime() ?? Number.NaN) - clock.now();
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(24 * hour);
      await clock.advance(24 * hour);
      await vi.waitFor(async () => expect(await queue.list()).toEqual([]));
      expect(sent).toHaveLength(2);
    });
  }

  for (const [label, body] of [
    ['holds a quote', '{"code":"PRECONDITION_FAILED","currentVersion":"7\\" x"}'],
    ['is too large for a number', '{"code":"PRECONDITION_FAILED","currentVersion":1e400}'],
  ]) {
    it(`a conflict whose currentVersion ${label} is parked for the user, not re-sent in a loop`, async () => {
      const { clock, queue, sent } = queueOver(
        () => new Response(body, { status: 412, headers: { 'content-type': 'application/json' } }),
        { resolveConflict: keepMine() },
      );
      const edit = { method: 'PATCH' as const, path: '/products/p1', version: 3, body: { a: 1 } };
      expect(await queue.send(edit)).toMatchObject({ queued: true, state: 'conflict' });
      await clock.advance(hour);
      expect(sent).toEqual(['"3"']);
      expect(await queue.list()).toMatchObject([
        { state: 'conflict', version: 3, error: { code: 'PRECONDITION_FAILED' } },
      ]);
    });
  }

  it('send() refuses a version that cannot go in an If-Match header, before storing it', async () => {
    const { queue, sent } = queueOver(created);
    await expect(
      queue.send({ method: 'PATCH', path: '/products/p1', version: 'v 1', body: {} }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'version' } });
    expect(sent).toEqual([]);
    expect(await queue.list()).toEqual([]);
  });

  for (const [label, answer] of [
    ['a 503', () => problem(503, {})],
    ['a 422', () => problem(422, { detail: 'No stock' })],
  ] as const) {
    it(`a write removed while a replay is on the wire stays removed when ${label} comes back`, async () => {
      let answerNow: () => void = () => {};
      const { queue, sent } = queueOver((attempt) =>
        attempt === 1
          ? Promise.reject(new TypeError('Failed to fetch'))
          : new Promise<Response>((resolve) => (answerNow = () => resolve(answer()))),
      );
      expect(await queue.send({ path: '/sales', body: {} })).toMatchObject({ queued: true });
      const replay = queue.flush();
      await vi.waitFor(() => expect(sent).toHaveLength(2));
      const [write] = await queue.list();
      expect(await queue.remove(write?.id ?? '')).toBe(true);
      answerNow();
      await replay;
      expect(await queue.list()).toEqual([]);
      expect(queue.counts.total).toBe(0);
    });
  }
});
