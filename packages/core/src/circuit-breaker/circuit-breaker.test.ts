import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { createCircuitBreaker } from './circuit-breaker.js';
import type { CircuitBreaker } from './circuit-breaker-config.js';

const failure = () => Promise.reject(Object.assign(new Error('upstream 503'), { status: 503 }));
const success = () => Promise.resolve('ok');

async function failTimes(breaker: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) await breaker.execute(failure).catch(() => {});
}

function eventLog(breaker: CircuitBreaker) {
  const events: string[] = [];
  breaker.onStateChange(({ from, to }) => events.push(`${from}→${to}`));
  breaker.onBreak(({ reason }) => events.push(`break:${reason}`));
  breaker.onHalfOpen(() => events.push('half-open'));
  breaker.onReset(() => events.push('reset'));
  return events;
}

async function rejectionOf(promise: Promise<unknown>): Promise<BallastError> {
  const error = await promise.catch((e: unknown) => e);
  if (!isBallastError(error, 'CIRCUIT_OPEN'))
    throw new Error(`expected CIRCUIT_OPEN, got ${error}`);
  return error;
}

describe('circuit breaker: consecutive failures', () => {
  it('opens after N failures in a row and then rejects without calling the dependency', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, halfOpenAfter: 10_000, clock });
    const events = eventLog(breaker);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(events).toEqual(['closed→open', 'break:consecutive-failures']);

    const dependency = vi.fn(success);
    await clock.advance(4_000);
    const error = await rejectionOf(breaker.execute(dependency));
    expect(dependency).not.toHaveBeenCalled();
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(503);
    expect(error.details).toEqual({ state: 'open', retryAfterMs: 6_000, retryAfterSeconds: 6 });
  });

  it('resets the count on a success', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, clock: new ManualClock() });
    await failTimes(breaker, 2);
    await breaker.execute(success);
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('does not count errors that say nothing about the dependency (a 404, a validation error)', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 2, clock: new ManualClock() });
    const notFound = Object.assign(new Error('not found'), { status: 404 });
    for (let i = 0; i < 5; i++) {
      await expect(breaker.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    }
    await breaker
      .execute(() => Promise.reject(new BallastError('VALIDATION_FAILED')))
      .catch(() => {});
    expect(breaker.state).toBe('closed');
  });

  it('counts what a custom isFailure says', async () => {
    const breaker = createCircuitBreaker({
      consecutiveFailures: 2,
      isFailure: (error) => (error as Error).message === 'counted',
      clock: new ManualClock(),
    });
    await breaker.execute(() => Promise.reject(new Error('ignored'))).catch(() => {});
    await breaker.execute(() => Promise.reject(new Error('counted'))).catch(() => {});
    expect(breaker.state).toBe('closed');
    await breaker.execute(() => Promise.reject(new Error('counted'))).catch(() => {});
    expect(breaker.state).toBe('open');
  });

  it('does not count a call the caller aborted', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, clock: new ManualClock() });
    const controller = new AbortController();
    const pending = breaker.execute(
      () =>
        new Promise((_, reject) => {
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
        }),
      { signal: controller.signal },
    );
    controller.abort('user left');
    await expect(pending).rejects.toBe('user left');
    await expect(
      breaker.execute(() => Promise.reject(new DOMException('aborted', 'AbortError'))),
    ).rejects.toThrow('aborted');
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(success, { signal: AbortSignal.abort('gone') })).rejects.toBe(
      'gone',
    );
  });
});

describe('circuit breaker: half-open probe', () => {
  it('lets one probe through after halfOpenAfter; its success closes the circuit', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 5_000, clock });
    const events = eventLog(breaker);
    await failTimes(breaker, 1);
    await clock.advance(4_999);
    await rejectionOf(breaker.execute(success));
    expect(breaker.state).toBe('open');
    await clock.advance(1);

    let finishProbe!: (value: string) => void;
    const probe = breaker.execute(() => new Promise<string>((resolve) => (finishProbe = resolve)));
    expect(breaker.state).toBe('half-open');
    // While the probe is out, everyone else is turned away.
    const turnedAway = await rejectionOf(breaker.execute(success));
    expect(turnedAway.details).toEqual({ state: 'half-open' });

    finishProbe('recovered');
    await expect(probe).resolves.toBe('recovered');
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(success)).resolves.toBe('ok');
    expect(events).toEqual([
      'closed→open',
      'break:consecutive-failures',
      'open→half-open',
      'half-open',
      'half-open→closed',
      'reset',
    ]);
  });

  it('re-opens for another full period when the probe fails', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 1_000, clock });
    const events = eventLog(breaker);
    await failTimes(breaker, 1);
    await clock.advance(1_000);
    await failTimes(breaker, 1); // the probe
    expect(breaker.state).toBe('open');
    expect(events.slice(-2)).toEqual(['half-open→open', 'break:probe-failed']);
    const error = await rejectionOf(breaker.execute(success));
    expect(error.details.retryAfterMs).toBe(1_000);
  });

  it('treats a probe that fails with an uncounted error as proof of life', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 1_000, clock });
    await failTimes(breaker, 1);
    await clock.advance(1_000);
    await breaker.execute(() => Promise.reject({ status: 404 })).catch(() => {});
    expect(breaker.state).toBe('closed');
  });

  it('lets the next call probe when the probe was cancelled', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 1_000, clock });
    await failTimes(breaker, 1);
    await clock.advance(1_000);
    await breaker
      .execute(() => Promise.reject(new DOMException('aborted', 'AbortError')))
      .catch(() => {});
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(success)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });

  it('ignores late outcomes of calls admitted before the circuit opened', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 1_000, clock });
    let finishSlow!: (value: string) => void;
    const slow = breaker.execute(() => new Promise<string>((resolve) => (finishSlow = resolve)));
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    finishSlow('late');
    await expect(slow).resolves.toBe('late');
    // The late success must not close the circuit: only a probe can.
    expect(breaker.state).toBe('open');
  });
});

describe('circuit breaker: failure ratio over a rolling window', () => {
  it('opens once the failure share reaches the ratio with enough calls in the window', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      failureRatio: 0.5,
      minThroughput: 6,
      window: 10_000,
      clock,
    });
    const events = eventLog(breaker);
    // 3 failures out of 5 calls: above the ratio but below the minimum throughput.
    await breaker.execute(success);
    await breaker.execute(success);
    await failTimes(breaker, 3);
    expect(breaker.state).toBe('closed');
    // A 6th call, failing: 4/6 ≥ 0.5 with 6 calls.
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    expect(events).toEqual(['closed→open', 'break:failure-ratio']);
  });

  it('forgets calls that slid out of the window', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      failureRatio: 0.5,
      minThroughput: 3,
      window: 1_000,
      clock,
    });
    // One failure a second: the window never holds the 3 calls the ratio needs.
    for (let i = 0; i < 10; i++) {
      await failTimes(breaker, 1);
      await clock.advance(1_000);
    }
    expect(breaker.state).toBe('closed');
    // Three within one window do.
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await clock.advance(900);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
  });

  it('starts a fresh window after it closes again', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({
      failureRatio: 0.5,
      minThroughput: 2,
      window: 60_000,
      halfOpenAfter: 1_000,
      clock,
    });
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('open');
    await clock.advance(1_000);
    await breaker.execute(success);
    expect(breaker.state).toBe('closed');
    // The two old failures are forgotten: one new failure out of one call is below throughput.
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('closed');
  });
});

describe('circuit breaker: isolation, events, state', () => {
  it('holds the circuit open while isolated and closes when every hold is released', async () => {
    const clock = new ManualClock();
    const breaker = createCircuitBreaker({ clock });
    const events = eventLog(breaker);
    const releaseA = breaker.isolate();
    const releaseB = breaker.isolate();
    expect(breaker.state).toBe('isolated');
    const error = await rejectionOf(breaker.execute(success));
    expect(error.details).toEqual({ state: 'isolated' });
    await clock.advance(60_000);
    await rejectionOf(breaker.execute(success));
    releaseA();
    releaseA();
    expect(breaker.state).toBe('isolated');
    releaseB();
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['closed→isolated', 'break:isolated', 'isolated→closed', 'reset']);
  });

  it('unsubscribes listeners, and a throwing listener neither breaks the breaker nor the call', async () => {
    const logged: unknown[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (fields) => logged.push(fields),
    };
    const breaker = createCircuitBreaker({
      consecutiveFailures: 1,
      clock: new ManualClock(),
      logger,
    });
    const seen: string[] = [];
    const unsubscribe = breaker.onBreak(() => seen.push('first'));
    breaker.onBreak(() => {
      throw new Error('listener bug');
    });
    unsubscribe();
    const upstream = Object.assign(new Error('down'), { status: 503 });
    await expect(breaker.execute(() => Promise.reject(upstream))).rejects.toBe(upstream);
    expect(breaker.state).toBe('open');
    expect(seen).toEqual([]);
    expect(logged).toHaveLength(1);
  });

  it('passes results and plain values through', async () => {
    const breaker = createCircuitBreaker({ clock: new ManualClock() });
    await expect(breaker.execute(() => 5)).resolves.toBe(5);
    await expect(
      breaker.execute(() => {
        throw new RangeError('sync');
      }),
    ).rejects.toThrow('sync');
  });
});

describe('circuit breaker: bad input', () => {
  it.each([
    ['consecutiveFailures', { consecutiveFailures: 0 }],
    ['failureRatio', { failureRatio: 1.5 }],
    ['failureRatio', { consecutiveFailures: 3, failureRatio: 0.5 }],
    ['minThroughput', { minThroughput: 5 }],
    ['window', { failureRatio: 0.5, window: Number.NaN }],
    ['halfOpenAfter', { halfOpenAfter: -1 }],
    ['clock', { clock: Date }],
    ['isFailure', { isFailure: true }],
  ])('rejects a bad %s with INVALID_OPTIONS', (field, options) => {
    try {
      createCircuitBreaker(options as never);
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (isBallastError(error)) expect(error.details.field).toBe(field);
    }
  });

  it('rejects a non-function call with INVALID_OPTIONS naming fn', async () => {
    const breaker = createCircuitBreaker();
    const error = await breaker.execute('x' as never).catch((e: unknown) => e);
    expect(isBallastError(error, 'INVALID_OPTIONS') && error.details.field).toBe('fn');
  });
});

describe('circuit breaker: option names and events', () => {
  it('takes listeners in its options and through on(), which returns an unsubscribe', async () => {
    const clock = new ManualClock();
    const seen: string[] = [];
    const breaker = createCircuitBreaker({
      consecutiveFailures: 1,
      halfOpenAfterMs: 100,
      clock,
      on: {
        break: ({ reason }) => seen.push(`break ${reason}`),
        halfOpen: () => seen.push('half'),
      },
    });
    const unsubscribe = breaker.on('reset', () => seen.push('reset'));
    breaker.on('stateChange', ({ to }) => seen.push(to));
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(100);
    await breaker.execute(() => 'up');
    expect(seen).toEqual([
      'open',
      'break consecutive-failures',
      'half-open',
      'half',
      'closed',
      'reset',
    ]);
    unsubscribe();
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(100);
    await breaker.execute(() => 'up');
    expect(seen.filter((event) => event === 'reset')).toHaveLength(1);
  });

  it('names durations in ms, and still accepts the deprecated names alone', async () => {
    const clock = new ManualClock();
    const legacy = createCircuitBreaker({ consecutiveFailures: 1, halfOpenAfter: 50, clock });
    await legacy.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(50);
    await expect(legacy.execute(() => 'up')).resolves.toBe('up');
    expect(() => createCircuitBreaker({ halfOpenAfterMs: 1, halfOpenAfter: 1 })).toThrow(
      /"halfOpenAfter": use halfOpenAfterMs alone/,
    );
    expect(() => createCircuitBreaker({ windowMs: 1_000 })).toThrow(
      /"windowMs": only used with failureRatio/,
    );
  });

  it('refuses an unknown event or a listener that is not a function', () => {
    const breaker = createCircuitBreaker();
    expect(() => breaker.on('open' as never, (() => {}) as never)).toThrow(
      /circuitBreaker.on\(\).*"event"/,
    );
    expect(() => breaker.on('break', 'log' as never)).toThrow(/"listener": expected a function/);
    expect(() => createCircuitBreaker({ on: { open: () => {} } as never })).toThrow(
      /"on.open": unknown option/,
    );
  });
});
