import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import type { RetryAttempt } from './attempt.js';
import { retry, retryPolicy } from './retry.js';
import { createRetryBudget } from './retry-budget.js';
import type { GiveUpEvent, RetryEvent, RetryOptions } from './retry-options.js';

/** An upstream that fails with `errors` in turn, then answers `'ok'`; records when it was called. */
function flaky(clock: ManualClock, errors: unknown[]) {
  const calls: Array<{ attempt: number; at: number; signal: AbortSignal }> = [];
  const fn = async ({ attempt, signal }: RetryAttempt) => {
    calls.push({ attempt, at: clock.now(), signal });
    const error = errors[calls.length - 1];
    if (error !== undefined) throw error;
    return 'ok';
  };
  return { fn, calls };
}

/** Runs `promise` to completion on `clock`, returning its outcome instead of throwing. */
async function settle<T>(clock: ManualClock, promise: Promise<T>) {
  const outcome = promise.then(
    (value) => ({ value, error: undefined as unknown }),
    (error: unknown) => ({ value: undefined, error }),
  );
  await clock.runAll();
  return outcome;
}

function recorder() {
  const retries: RetryEvent[] = [];
  const giveUps: GiveUpEvent[] = [];
  return {
    retries,
    giveUps,
    hooks: {
      onRetry: (event: RetryEvent) => retries.push(event),
      onGiveUp: (event: GiveUpEvent) => giveUps.push(event),
    },
  };
}

const boom = (n: number) => new Error(`boom ${n}`);

describe('retry: success path', () => {
  it('calls fn once with attempt 1 and a live signal, and sets no timer', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, []);
    await expect(retry(fn, { clock })).resolves.toBe('ok');
    await expect(retry(fn, 'read')).resolves.toBe('ok');
    await expect(retryPolicy({ clock, timeout: 1_000 })(fn)).resolves.toBe('ok');
    expect(calls.map((call) => call.attempt)).toEqual([1, 1, 1]);
    expect(calls.every((call) => call.signal instanceof AbortSignal && !call.signal.aborted)).toBe(
      true,
    );
    expect(clock.pendingTimers).toBe(0);
  });

  it('accepts a function returning a plain value, and a synchronous throw counts as a failure', async () => {
    const clock = new ManualClock();
    let n = 0;
    const result = retry(
      () => {
        n++;
        if (n === 1) throw boom(1);
        return 7;
      },
      { clock, jitter: 'none' },
    );
    expect(await settle(clock, result)).toEqual({ value: 7, error: undefined });
    expect(n).toBe(2);
  });
});

describe('retry: schedules', () => {
  it("follows the 'mutation' preset: 500, 1000, 2000 ms, then succeeds on the 4th attempt", async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1), boom(2), boom(3)]);
    const { retries, hooks } = recorder();
    const outcome = await settle(
      clock,
      retry(fn, { preset: 'mutation', jitter: 'none', clock, ...hooks }),
    );
    expect(outcome.value).toBe('ok');
    expect(calls.map((call) => [call.attempt, call.at])).toEqual([
      [1, 0],
      [2, 500],
      [3, 1_500],
      [4, 3_500],
    ]);
    expect(
      retries.map((event) => [event.attempt, event.delayMs, (event.error as Error).message]),
    ).toEqual([
      [1, 500, 'boom 1'],
      [2, 1_000, 'boom 2'],
      [3, 2_000, 'boom 3'],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it("follows the 'read' preset: 1, 2, 4 s", async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1), boom(2), boom(3)]);
    await settle(clock, retry(fn, { preset: 'read', jitter: 'none', clock }));
    expect(calls.map((call) => call.at)).toEqual([0, 1_000, 3_000, 7_000]);
  });

  it('uses the mutation preset and equal jitter by default, with the injected random source', async () => {
    const clock = new ManualClock();
    const { fn } = flaky(clock, [boom(1), boom(2), boom(3)]);
    const { retries, hooks } = recorder();
    await settle(clock, retry(fn, { clock, random: () => 0, ...hooks }));
    // Equal jitter keeps at least half of each nominal delay.
    expect(retries.map((event) => event.delayMs)).toEqual([250, 500, 1_000]);
  });

  it.each([
    ['equal', 0.5, [375, 750, 1_500]],
    ['equal', 0.999, [500, 1_000, 1_999]],
    ['full', 0.5, [250, 500, 1_000]],
    ['full', 0, [0, 0, 0]],
    ['none', 0.3, [500, 1_000, 2_000]],
  ] as const)('applies %s jitter with random() = %s', async (jitter, value, expected) => {
    const clock = new ManualClock();
    const { fn } = flaky(clock, [boom(1), boom(2), boom(3)]);
    const { retries, hooks } = recorder();
    await settle(clock, retry(fn, { clock, jitter, random: () => value, ...hooks }));
    expect(retries.map((event) => event.delayMs)).toEqual(expected);
  });

  it('takes explicit delays and repeats the last one when more retries are allowed', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1), boom(2), boom(3), boom(4)]);
    await settle(clock, retry(fn, { delaysMs: [100, 200], retries: 4, jitter: 'none', clock }));
    expect(calls.map((call) => call.at)).toEqual([0, 100, 300, 500, 700]);
  });

  it('grows exponentially and caps each delay at maxDelay', async () => {
    const clock = new ManualClock();
    const errors = [boom(1), boom(2), boom(3), boom(4), boom(5)];
    const { fn } = flaky(clock, errors);
    const { retries, hooks } = recorder();
    await settle(
      clock,
      retry(fn, {
        backoff: { initialDelayMs: 100, factor: 3 },
        retries: 5,
        maxDelay: 1_000,
        jitter: 'none',
        clock,
        ...hooks,
      }),
    );
    expect(retries.map((event) => event.delayMs)).toEqual([100, 300, 900, 1_000, 1_000]);
  });

  it('caps preset delays at maxDelay too', async () => {
    const clock = new ManualClock();
    const { fn } = flaky(clock, [boom(1), boom(2), boom(3)]);
    const { retries, hooks } = recorder();
    await settle(
      clock,
      retry(fn, { preset: 'read', maxDelay: 1_500, jitter: 'none', clock, ...hooks }),
    );
    expect(retries.map((event) => event.delayMs)).toEqual([1_000, 1_500, 1_500]);
  });

  it('makes no retry with retries: 0', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1)]);
    const { giveUps, hooks } = recorder();
    const outcome = await settle(clock, retry(fn, { retries: 0, clock, ...hooks }));
    expect((outcome.error as Error).message).toBe('boom 1');
    expect(calls).toHaveLength(1);
    expect(giveUps).toEqual([{ attempts: 1, error: outcome.error, reason: 'retries-exhausted' }]);
  });
});

describe('retry: giving up', () => {
  it('rejects with the last error itself after the last retry, and says so in onGiveUp', async () => {
    const clock = new ManualClock();
    const last = boom(4);
    const { fn, calls } = flaky(clock, [boom(1), boom(2), boom(3), last]);
    const { giveUps, hooks } = recorder();
    const outcome = await settle(clock, retry(fn, { clock, ...hooks }));
    expect(outcome.error).toBe(last);
    expect(calls).toHaveLength(4);
    expect(giveUps).toEqual([{ attempts: 4, error: last, reason: 'retries-exhausted' }]);
  });

  it('does not retry an error the classifier calls final (a 404)', async () => {
    const clock = new ManualClock();
    const notFound = Object.assign(new Error('Not Found'), { status: 404 });
    const { fn, calls } = flaky(clock, [notFound]);
    const { giveUps, hooks } = recorder();
    const outcome = await settle(clock, retry(fn, { clock, ...hooks }));
    expect(outcome.error).toBe(notFound);
    expect(calls).toHaveLength(1);
    expect(giveUps[0]?.reason).toBe('not-retryable');
  });

  it('passes thrown non-errors through unchanged (as they were thrown, never wrapped in a TypeError)', async () => {
    const clock = new ManualClock();
    const { fn } = flaky(clock, ['plain string', { code: 'E_WEIRD' }]);
    const outcome = await settle(clock, retry(fn, { clock, retries: 1, jitter: 'none' }));
    expect(outcome.error).toEqual({ code: 'E_WEIRD' });
  });

  it('lets the caller retry a TypeError, which the default classifier refuses, through classify', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [new TypeError('socket hang up')]);
    const outcome = await settle(
      clock,
      retry(fn, { clock, classify: (error) => (error instanceof TypeError ? 'retry' : undefined) }),
    );
    expect(outcome.value).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  it('lets the caller declare an otherwise retryable error final', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [Object.assign(new Error('busy'), { status: 503 })]);
    const outcome = await settle(clock, retry(fn, { clock, classify: () => 'fail' }));
    expect((outcome.error as Error).message).toBe('busy');
    expect(calls).toHaveLength(1);
  });

  it('rejects with the error an onRetry hook throws, without sleeping', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1)]);
    const hookError = new Error('stop');
    const outcome = await settle(
      clock,
      retry(fn, {
        clock,
        onRetry: () => {
          throw hookError;
        },
      }),
    );
    expect(outcome.error).toBe(hookError);
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('retry: Retry-After', () => {
  it('waits at least the delta-seconds a 429 asks for', async () => {
    const clock = new ManualClock();
    const limited = Object.assign(new Error('Too Many Requests'), {
      status: 429,
      headers: { 'Retry-After': '3' },
    });
    const { fn, calls } = flaky(clock, [limited]);
    const { retries, hooks } = recorder();
    await settle(clock, retry(fn, { clock, jitter: 'none', ...hooks }));
    expect(retries[0]?.delayMs).toBe(3_000);
    expect(calls.map((call) => call.at)).toEqual([0, 3_000]);
  });

  it('reads an HTTP-date relative to the clock from a thrown Response', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const response = new Response('busy', {
      status: 503,
      headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:02 GMT' },
    });
    const { fn } = flaky(clock, [response]);
    const { retries, hooks } = recorder();
    await settle(clock, retry(fn, { clock, jitter: 'none', ...hooks }));
    expect(retries[0]?.delayMs).toBe(2_000);
  });

  it('keeps the backoff when it is longer than Retry-After', async () => {
    const clock = new ManualClock();
    const error = {
      status: 503,
      response: { status: 503, headers: new Headers({ 'retry-after': '0' }) },
    };
    const { fn } = flaky(clock, [error]);
    const { retries, hooks } = recorder();
    await settle(clock, retry(fn, { clock, jitter: 'none', ...hooks }));
    expect(retries[0]?.delayMs).toBe(500);
  });

  it('gives up at once when Retry-After exceeds maxDelay, instead of retrying too early', async () => {
    const clock = new ManualClock();
    const limited = { status: 429, headers: { 'retry-after': '120' } };
    const { fn, calls } = flaky(clock, [limited]);
    const { giveUps, hooks } = recorder();
    const outcome = await settle(clock, retry(fn, { clock, maxDelay: 60_000, ...hooks }));
    expect(outcome.error).toBe(limited);
    expect(calls).toHaveLength(1);
    expect(giveUps[0]?.reason).toBe('retry-after-too-long');
    expect(clock.now()).toBe(0);
  });

  it("honours a retryable BallastError's retryAfterMs (as a CIRCUIT_OPEN rejection carries)", async () => {
    const clock = new ManualClock();
    const open = new BallastError('CIRCUIT_OPEN', { details: { retryAfterMs: 4_200 } });
    const { fn } = flaky(clock, [open]);
    const { retries, hooks } = recorder();
    await settle(clock, retry(fn, { clock, jitter: 'none', ...hooks }));
    expect(retries[0]?.delayMs).toBe(4_200);
  });
});

describe('retry: cancellation', () => {
  it("rejects at once with the signal's reason when aborted during a backoff sleep", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const { fn, calls } = flaky(clock, [boom(1), boom(2)]);
    const { giveUps, hooks } = recorder();
    const result = retry(fn, { clock, signal: controller.signal, jitter: 'none', ...hooks });
    const outcome = result.catch((error: unknown) => error);
    await clock.advance(100); // 100 ms into the 500 ms backoff
    expect(calls).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('user left the page');
    controller.abort(reason);
    expect(await outcome).toBe(reason);
    // Rejected without waiting out the backoff: the clock has not moved, no timer is left.
    expect(clock.now()).toBe(100);
    expect(clock.pendingTimers).toBe(0);
    await clock.runAll();
    expect(calls).toHaveLength(1);
    expect(giveUps).toEqual([{ attempts: 1, error: reason, reason: 'aborted' }]);
  });

  it("rejects at once when aborted during an attempt, and aborts that attempt's signal", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = retry(
      ({ signal }) => {
        seen = signal;
        return new Promise<never>(() => {});
      },
      { clock, signal: controller.signal },
    );
    controller.abort('cancelled');
    await expect(result).rejects.toBe('cancelled');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe('cancelled');
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not call fn when the signal is already aborted', async () => {
    const clock = new ManualClock();
    const fn = vi.fn(async () => 'ok');
    await expect(retry(fn, { clock, signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('retry: per-attempt timeout and overall deadline', () => {
  const ok = async () => 'ok';
  it('refuses epoch milliseconds as a deadline, which would time out every attempt at once', async () => {
    const error = await retry(ok, { deadline: Date.now() + 30_000 }).catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toMatch(/"deadline".*pass a Date for an absolute time/);
    expect(() => retryPolicy({ deadline: 2 ** 31 })).toThrow(/"deadline"/);
  });

  it('takes a number deadline up to the longest timer, and a Date for an absolute time', async () => {
    await expect(retry(ok, { deadline: 2 ** 31 - 1 })).resolves.toBe('ok');
    await expect(retry(ok, { deadline: new Date(Date.now() + 30_000) })).resolves.toBe('ok');
  });

  it('aborts a slow attempt with a retryable TIMEOUT and retries it', async () => {
    const clock = new ManualClock();
    const attempts: Array<{ attempt: number; at: number; abortedAt?: number; reason?: unknown }> =
      [];
    const { retries, hooks } = recorder();
    const result = retry(
      ({ attempt, signal }) => {
        const record: (typeof attempts)[number] = { attempt, at: clock.now() };
        attempts.push(record);
        signal.addEventListener('abort', () => {
          record.abortedAt = clock.now();
          record.reason = signal.reason;
        });
        return attempt < 3 ? new Promise<string>(() => {}) : Promise.resolve('ok');
      },
      { clock, timeout: 1_000, jitter: 'none', ...hooks },
    );
    const outcome = await settle(clock, result);
    expect(outcome.value).toBe('ok');
    expect(attempts.map(({ attempt, at, abortedAt }) => [attempt, at, abortedAt])).toEqual([
      [1, 0, 1_000],
      [2, 1_500, 2_500],
      [3, 3_500, undefined],
    ]);
    const timeout = attempts[0]?.reason;
    expect(isBallastError(timeout, 'TIMEOUT')).toBe(true);
    if (isBallastError(timeout)) {
      expect(timeout.retryable).toBe(true);
      expect(timeout.details).toEqual({ attempt: 1, timeoutMs: 1_000 });
    }
    expect(retries[0]?.error).toBe(timeout);
    expect(clock.pendingTimers).toBe(0);
  });

  it("aborts the running attempt's signal when the deadline's remaining budget runs out", async () => {
    const clock = new ManualClock();
    const seen: Array<{ at: number; abortedAt?: number }> = [];
    const { giveUps, hooks } = recorder();
    const result = retry(
      ({ attempt, signal }) => {
        const record: (typeof seen)[number] = { at: clock.now() };
        seen.push(record);
        signal.addEventListener('abort', () => {
          record.abortedAt = clock.now();
        });
        return attempt === 1 ? Promise.reject(boom(1)) : new Promise<never>(() => {});
      },
      { clock, deadline: 2_000, timeout: 10_000, jitter: 'none', ...hooks },
    );
    const outcome = await settle(clock, result);
    expect(seen).toEqual([{ at: 0 }, { at: 500, abortedAt: 2_000 }]);
    expect(isBallastError(outcome.error, 'TIMEOUT')).toBe(true);
    if (isBallastError(outcome.error)) {
      expect(outcome.error.details).toEqual({ attempt: 2, deadline: true });
    }
    expect(giveUps[0]?.reason).toBe('deadline');
    expect(clock.now()).toBe(2_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts no backoff that would end past the deadline: fails fast with the last error', async () => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1), boom(2), boom(3)]);
    const { giveUps, hooks } = recorder();
    const result = retry(fn, { clock, deadline: 1_200, jitter: 'none', ...hooks });
    const outcome = result.catch((error: unknown) => error);
    await clock.advance(500);
    // Attempt 2 failed at 500 ms; the next backoff (1000 ms) would end at 1500 > 1200.
    const error = await outcome;
    expect((error as Error).message).toBe('boom 2');
    expect(calls.map((call) => call.at)).toEqual([0, 500]);
    expect(clock.now()).toBe(500);
    expect(clock.pendingTimers).toBe(0);
    expect(giveUps).toEqual([{ attempts: 2, error, reason: 'deadline' }]);
  });

  it('accepts an absolute Date deadline; one already past fails with TIMEOUT without calling fn', async () => {
    const clock = new ManualClock(10_000);
    const fn = vi.fn(async () => 'ok');
    const outcome = await settle(clock, retry(fn, { clock, deadline: new Date(9_000) }));
    expect(isBallastError(outcome.error, 'TIMEOUT')).toBe(true);
    expect(fn).not.toHaveBeenCalled();

    const { fn: flakyFn, calls } = flaky(clock, [boom(1)]);
    const ok = await settle(
      clock,
      retry(flakyFn, { clock, deadline: new Date(12_000), jitter: 'none' }),
    );
    expect(ok.value).toBe('ok');
    expect(calls.map((call) => call.at)).toEqual([10_000, 10_500]);
  });
});

describe('retry: idempotency guard', () => {
  it.each([
    ['POST', {}],
    ['PATCH', {}],
    ['post', { headers: { 'Content-Type': 'application/json' } }],
    ['POST', { idempotencyKey: '   ' }],
  ])(
    'does not retry a %s without an idempotency key: the first failure propagates',
    async (method, extra) => {
      const clock = new ManualClock();
      const { fn, calls } = flaky(clock, [boom(1)]);
      const { giveUps, hooks } = recorder();
      const outcome = await settle(
        clock,
        retry(fn, { clock, request: { method, ...extra }, ...hooks }),
      );
      expect((outcome.error as Error).message).toBe('boom 1');
      expect(calls).toHaveLength(1);
      expect(giveUps[0]?.reason).toBe('not-idempotent');
    },
  );

  it.each([
    ['POST with idempotencyKey', { method: 'POST', idempotencyKey: 'f5a1' }],
    [
      'PATCH with an Idempotency-Key header record',
      { method: 'PATCH', headers: { 'Idempotency-Key': 'f5a1' } },
    ],
    ['POST with Headers', { method: 'POST', headers: new Headers({ 'idempotency-key': 'f5a1' }) }],
    [
      'POST with header pairs',
      { method: 'POST', headers: [['Idempotency-Key', 'f5a1']] as [string, string][] },
    ],
    ['GET', { method: 'GET' }],
    ['HEAD', { method: 'HEAD' }],
    ['PUT', { method: 'PUT' }],
    ['DELETE', { method: 'delete' }],
    ['OPTIONS', { method: 'OPTIONS' }],
    [
      'a Request object with a key',
      new Request('https://api.test/sales', {
        method: 'POST',
        headers: { 'Idempotency-Key': 'f5a1' },
      }),
    ],
  ])('retries %s', async (_name, request) => {
    const clock = new ManualClock();
    const { fn, calls } = flaky(clock, [boom(1)]);
    const outcome = await settle(clock, retry(fn, { clock, request }));
    expect(outcome.value).toBe('ok');
    expect(calls).toHaveLength(2);
  });
});

describe('retry: budget', () => {
  it('refuses retries beyond the shared budget and rejects with the last error', async () => {
    const clock = new ManualClock();
    // No ratio, a floor of 0.2 retries/s over 10 s: two retries in the window.
    const budget = createRetryBudget({
      ratio: 0,
      minRetriesPerSecond: 0.2,
      windowMs: 10_000,
      clock,
    });
    const { giveUps, hooks } = recorder();
    const options: RetryOptions = { clock, budget, jitter: 'none', ...hooks };
    const first = flaky(clock, [boom(1), boom(2), boom(3), boom(4)]);
    const outcome = await settle(clock, retry(first.fn, options));
    expect((outcome.error as Error).message).toBe('boom 3');
    expect(first.calls).toHaveLength(3);
    expect(giveUps[0]).toEqual({ attempts: 3, error: outcome.error, reason: 'budget-exhausted' });

    const second = flaky(clock, [boom(1)]);
    const refused = await settle(clock, retry(second.fn, options));
    expect((refused.error as Error).message).toBe('boom 1');
    expect(second.calls).toHaveLength(1);
    expect(budget.stats).toMatchObject({ calls: 2, retries: 2, available: 0, refused: 2 });

    // Once the window has slid past those retries, retrying is allowed again.
    await clock.advance(10_000);
    const third = flaky(clock, [boom(1)]);
    expect((await settle(clock, retry(third.fn, options))).value).toBe('ok');
  });

  it('earns retries from calls at the configured ratio', async () => {
    const clock = new ManualClock();
    const budget = createRetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, clock });
    for (let i = 0; i < 4; i++) await retry(async () => 'ok', { clock, budget });
    const { fn, calls } = flaky(clock, [boom(1), boom(2), boom(3)]);
    // 5 calls × 0.5 = 2.5 retries: two are granted, the third is refused.
    const outcome = await settle(clock, retry(fn, { clock, budget, jitter: 'none' }));
    expect((outcome.error as Error).message).toBe('boom 3');
    expect(calls).toHaveLength(3);
  });
});

describe('retryPolicy', () => {
  it('reuses one validated policy and layers per-call signal, deadline and request on it', async () => {
    const clock = new ManualClock();
    const policy = retryPolicy({ preset: 'read', jitter: 'none', clock });
    const ok = flaky(clock, [boom(1)]);
    expect((await settle(clock, policy(ok.fn))).value).toBe('ok');
    expect(ok.calls.map((call) => call.at)).toEqual([0, 1_000]);

    const post = flaky(clock, [boom(1)]);
    const refused = await settle(clock, policy(post.fn, { request: { method: 'POST' } }));
    expect((refused.error as Error).message).toBe('boom 1');
    expect(post.calls).toHaveLength(1);

    const late = flaky(clock, [boom(1), boom(2)]);
    const deadline = await settle(clock, policy(late.fn, { deadline: 2_500 }));
    expect((deadline.error as Error).message).toBe('boom 2');
  });

  it('cancels on either the policy signal or the call signal', async () => {
    const clock = new ManualClock();
    const shutdown = new AbortController();
    const policy = retryPolicy({ clock, signal: shutdown.signal });
    const request = new AbortController();
    const hanging = () => new Promise<never>(() => {});
    const first = policy(hanging, { signal: request.signal });
    request.abort('request cancelled');
    await expect(first).rejects.toBe('request cancelled');
    const second = policy(hanging, { signal: new AbortController().signal });
    shutdown.abort('shutting down');
    await expect(second).rejects.toBe('shutting down');
  });

  it('takes the earlier of the policy deadline and the call deadline', async () => {
    const clock = new ManualClock();
    const policy = retryPolicy({ clock, deadline: 10_000, jitter: 'none' });
    const { fn, calls } = flaky(clock, [boom(1), boom(2)]);
    const outcome = await settle(clock, policy(fn, { deadline: 1_000 }));
    expect((outcome.error as Error).message).toBe('boom 2');
    expect(calls.map((call) => call.at)).toEqual([0, 500]);
  });
});

describe('retry: bad input', () => {
  async function fieldOf(promise: Promise<unknown>): Promise<unknown> {
    const error = await promise.catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    return isBallastError(error) ? error.details.field : undefined;
  }
  const ok = async () => 'ok';

  it.each([
    ['retries', { retries: -1 }],
    ['retries', { retries: 1.5 }],
    ['delaysMs.1', { delaysMs: [100, Number.NaN] }],
    ['delaysMs.0', { delaysMs: [-5] }],
    ['delaysMs', { delaysMs: [] }],
    ['delays.0', { delays: [-5] }],
    ['preset', { preset: 'fast' }],
    ['delaysMs', { preset: 'read', delaysMs: [100] }],
    ['backoff.initialDelayMs', { backoff: { initialDelayMs: -1 } }],
    ['backoff.factor', { backoff: { factor: Number.NaN } }],
    ['maxDelay', { maxDelay: Number.NaN }],
    ['jitter', { jitter: 'some' }],
    ['timeout', { timeout: 0 }],
    ['deadline', { deadline: -1 }],
    ['signal', { signal: 'abort' }],
    ['request.method', { request: { method: '' } }],
    ['clock', { clock: { now: () => 0 } }],
    ['onRetry', { onRetry: 'log' }],
    ['retrys', { retrys: 3 }],
  ])('rejects with INVALID_OPTIONS naming %s', async (field, options) => {
    expect(await fieldOf(retry(ok, options as RetryOptions))).toBe(field);
    expect(() => retryPolicy(options as RetryOptions)).toThrow(BallastError);
  });

  it('names an unknown preset given as a string', async () => {
    expect(await fieldOf(retry(ok, 'fast' as never))).toBe('preset');
    expect(() => retryPolicy('fast' as never)).toThrow(/preset/);
  });

  it('names a non-function fn', async () => {
    expect(await fieldOf(retry('not a function' as never))).toBe('fn');
    expect(await fieldOf(retryPolicy('read')(42 as never))).toBe('fn');
  });

  it('validates per-call options of a policy', async () => {
    const policy = retryPolicy('read');
    expect(await fieldOf(policy(ok, { deadline: Number.NaN }))).toBe('deadline');
    expect(await fieldOf(policy(ok, { signal: {} as AbortSignal }))).toBe('signal');
  });
});

describe('retry: option names and events', () => {
  it('gives delays and backoff.initialDelay, deprecated, the meaning of their Ms names', async () => {
    const schedule = async (options: RetryOptions) => {
      const clock = new ManualClock();
      const { fn } = flaky(clock, [boom(1), boom(2), boom(3)]);
      const { retries, hooks } = recorder();
      await settle(clock, retry(fn, { ...options, retries: 2, jitter: 'none', clock, ...hooks }));
      return retries.map((event) => event.delayMs);
    };
    expect(await schedule({ delays: [30, 70] })).toEqual([30, 70]);
    expect(await schedule({ delaysMs: [30, 70] })).toEqual([30, 70]);
    expect(await schedule({ backoff: { initialDelay: 40, factor: 3 } })).toEqual([40, 120]);
    expect(await schedule({ backoff: { initialDelayMs: 40, factor: 3 } })).toEqual([40, 120]);
  });

  it('takes timeoutMs, maxDelayMs and on: { retry, giveUp }', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const call = retry(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      {
        clock,
        delaysMs: [50_000],
        retries: 1,
        jitter: 'none',
        maxDelayMs: 100,
        timeoutMs: 10,
        on: {
          retry: ({ attempt, delayMs, delay }) =>
            events.push(`retry ${attempt} after ${delayMs} (${delay})`),
          giveUp: ({ reason }) => events.push(`give up: ${reason}`),
        },
      },
    ).catch((error: unknown) => error);
    await clock.runAll();
    expect(isBallastError(await call, 'TIMEOUT')).toBe(true);
    expect(events).toEqual(['retry 1 after 100 (100)', 'give up: retries-exhausted']);
    expect(clock.now()).toBe(120);
  });

  it('still accepts the deprecated names, but not together with the new ones', async () => {
    await expect(retry(async () => 'ok', { timeout: 10, maxDelay: 100 })).resolves.toBe('ok');
    for (const [options, field] of [
      [{ timeout: 10, timeoutMs: 10 }, 'timeout'],
      [{ maxDelay: 10, maxDelayMs: 10 }, 'maxDelay'],
      [{ delays: [10], delaysMs: [10] }, 'delays'],
      [{ backoff: { initialDelay: 10, initialDelayMs: 10 } }, 'backoff.initialDelay'],
      [{ onRetry: () => {}, on: { retry: () => {} } }, 'onRetry'],
    ] as const) {
      const error = await retry(async () => 'ok', options).catch((e: unknown) => e);
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as BallastError).details.field).toBe(field);
    }
  });
});
