import { describe, expect, it } from 'vitest';
import { createBulkhead } from '../bulkhead/bulkhead.js';
import { createCircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import { ManualClock } from '../clock/manual-clock.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { retryPolicy } from '../retry/retry.js';
import { compose } from './compose.js';
import { createTimeout } from './create-timeout.js';
import type { Policy } from './policy.js';

/** Settles `promise` while the manual clock runs every timer it schedules. */
async function settle<T>(clock: ManualClock, promise: Promise<T>) {
  const outcome = promise.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
  await clock.runAll();
  return outcome;
}

/** A policy that records when it is entered and left. */
function tracer(name: string, log: string[]): Policy {
  return {
    async execute(fn, options) {
      log.push(`enter ${name}`);
      try {
        return await fn({ signal: options?.signal ?? new AbortController().signal });
      } finally {
        log.push(`leave ${name}`);
      }
    },
  };
}

function hangsUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

describe('compose', () => {
  it('runs the policies first outermost, then the function, like cockatiel wrap()', async () => {
    const log: string[] = [];
    const policy = compose(tracer('a', log), tracer('b', log), tracer('c', log));
    await expect(
      policy.execute(() => {
        log.push('fn');
        return 'done';
      }),
    ).resolves.toBe('done');
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'fn', 'leave c', 'leave b', 'leave a']);
  });

  it('bulkhead → breaker → retry → timeout: a hung attempt times out and is retried, and the breaker sees one success', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, clock });
    const changes: string[] = [];
    breaker.onStateChange(({ to }) => changes.push(to));
    const policy = compose(
      createBulkhead({ maxConcurrent: 1 }),
      breaker,
      retryPolicy({ delays: [100], retries: 2, jitter: 'none', clock }),
      createTimeout({ timeoutMs: 1_000, clock }),
    );
    let attempts = 0;
    const outcome = await settle(
      clock,
      policy.execute(({ signal }) => {
        attempts++;
        return attempts === 1 ? hangsUntilAborted(signal) : 'second attempt';
      }),
    );
    expect(outcome.value).toBe('second attempt');
    expect(attempts).toBe(2);
    expect(clock.now()).toBe(1_100);
    expect(changes).toEqual([]);
    expect(breaker.state).toBe('closed');
  });

  it('hands the innermost signal to the function: the timeout aborts it with TIMEOUT', async () => {
    const clock = new ManualClock();
    const policy = compose(
      createCircuitBreaker({ clock }),
      createTimeout({ timeoutMs: 50, clock }),
    );
    let seen: AbortSignal | undefined;
    const outcome = await settle(
      clock,
      policy.execute(({ signal }) => {
        seen = signal;
        return hangsUntilAborted(signal);
      }),
    );
    expect(isBallastError(outcome.error, 'TIMEOUT')).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(isBallastError(seen?.reason, 'TIMEOUT')).toBe(true);
  });

  it("threads the caller's signal through every layer: aborting it cancels the call", async () => {
    const clock = new ManualClock();
    const policy = compose(
      createBulkhead({ maxConcurrent: 1 }),
      retryPolicy({ delays: [100], jitter: 'none', clock }),
      createTimeout({ timeoutMs: 10_000, clock }),
    );
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    const call = policy.execute(
      ({ signal }) => {
        seen = signal;
        return hangsUntilAborted(signal);
      },
      { signal: controller.signal },
    );
    const reason = new Error('user left');
    await clock.advance(10);
    controller.abort(reason);
    await expect(call).rejects.toBe(reason);
    expect(seen?.aborted).toBe(true);
  });

  it('gives a function a signal even when no layer has one', async () => {
    const policy = compose(createBulkhead({ maxConcurrent: 1 }));
    const signal = await policy.execute(({ signal }) => signal);
    expect(signal.aborted).toBe(false);
  });

  it('fails fast with CIRCUIT_OPEN without calling the inner policies while the circuit is open', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 1_000, clock });
    const log: string[] = [];
    const policy = compose(breaker, tracer('inner', log));
    await expect(policy.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    log.length = 0;
    const error = await policy.execute(() => 'never').catch((e: unknown) => e);
    expect(isBallastError(error, 'CIRCUIT_OPEN')).toBe(true);
    expect(log).toEqual([]);
  });

  it('composes compositions', async () => {
    const log: string[] = [];
    const inner = compose(tracer('b', log), tracer('c', log));
    await compose(tracer('a', log), inner).execute(() => log.push('fn'));
    expect(log).toEqual(['enter a', 'enter b', 'enter c', 'fn', 'leave c', 'leave b', 'leave a']);
  });

  it('refuses anything that is not a policy, and a call without a function, with INVALID_OPTIONS', async () => {
    expect(() => compose()).toThrow(/compose\(\).*must have at least 1 items/);
    expect(() => compose({} as Policy)).toThrow(/"0": expected a policy/);
    const policy = compose(createBulkhead({ maxConcurrent: 1 }));
    const error = await policy.execute(undefined as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BallastError);
    expect((error as BallastError).message).toBe(
      'Invalid options for compose().execute(): "fn": expected a function',
    );
    await expect(policy.execute(() => 1, { signal: 'x' } as never)).rejects.toThrow(
      /"signal": expected an AbortSignal/,
    );
  });
});

describe('createTimeout', () => {
  it('limits each call to timeoutMs on the given clock', async () => {
    const clock = new ManualClock();
    const timeout = createTimeout({ timeoutMs: 200, clock });
    expect(timeout.timeoutMs).toBe(200);
    const outcome = await settle(
      clock,
      timeout.execute(({ signal }) => hangsUntilAborted(signal)),
    );
    expect(isBallastError(outcome.error, 'TIMEOUT')).toBe(true);
    expect(clock.now()).toBe(200);
  });

  it('validates its options strictly', () => {
    expect(() => createTimeout(undefined as never)).toThrow(/createTimeout\(\).*\(options\)/);
    expect(() => createTimeout({ timeout: 5 } as never)).toThrow(/"timeout": unknown option/);
    expect(() => createTimeout({ timeoutMs: 0 })).toThrow(/"timeoutMs": must be greater than 0/);
  });
});
