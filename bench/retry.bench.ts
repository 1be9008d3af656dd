/**
 * What retrying costs when nothing fails: the overhead per successful call of Ballast's
 * `retry()` against raw p-retry, cockatiel's retry policy and a bare `await fn()`, in one
 * process, on the same always-succeeding function. The success path is the hot path: most
 * calls succeed first time, so that is where a retry wrapper's cost is paid.
 *
 * Method: each contender runs back-to-back awaited calls for a fixed time slice; the slices of
 * all contenders are interleaved, round after round, so a burst of load on a shared machine
 * hits every contender alike; each figure is the median over the rounds. Overhead is a
 * contender's time per call minus the bare await's.
 *
 * Also measured: memory retained per in-flight call (10,000 calls started against a promise
 * that has not settled yet, heap compared after a forced GC), because a wrapper that holds
 * timers, controllers and closures per call multiplies under load.
 *
 * Headline: Ballast `retry(fn, 'mutation')` overhead vs p-retry's, in ns per call.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { retry as cockatielRetry, ExponentialBackoff, handleAll } from 'cockatiel';
import pRetry from 'p-retry';
import { retry, retryPolicy } from '../packages/core/src/index.js';
import type { Benchmark } from './bench-result.js';

const rounds = 15;
const sliceMs = 60;
const warmupMs = 300;
const inFlightCalls = 10_000;

/** The operation every contender wraps: succeeds at once, as most calls do. */
const succeed = () => Promise.resolve(1);

const ballastPolicy = retryPolicy('mutation');
const cockatielPolicy = cockatielRetry(handleAll, {
  maxAttempts: 3,
  backoff: new ExponentialBackoff(),
});
const signal = new AbortController().signal;

/** Every contender: one awaited, successful call. */
const contenders = {
  bare: () => succeed(),
  ballast: () => retry(succeed, 'mutation'),
  'ballast-policy': () => ballastPolicy(succeed),
  'ballast-inline-options': () => retry(succeed, { preset: 'read', signal }),
  'p-retry': () => pRetry(succeed, { retries: 3, minTimeout: 500, factor: 2 }),
  cockatiel: () => cockatielPolicy.execute(succeed),
} satisfies Record<string, () => Promise<unknown>>;
type Contender = keyof typeof contenders;

/** Nanoseconds per call of `call`, run back to back for about `ms`. */
async function nsPerCall(call: () => Promise<unknown>, ms: number): Promise<number> {
  let calls = 0;
  const started = performance.now();
  const until = started + ms;
  // Check the time every 64 calls so reading the clock stays out of the figure.
  while (performance.now() < until) {
    for (let i = 0; i < 64; i++) await call();
    calls += 64;
  }
  return ((performance.now() - started) * 1e6) / calls;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** A GC on demand: `--expose-gc` set at run time, the `gc` function taken from a fresh context. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

/** Heap bytes retained per call while `inFlightCalls` calls wait on one unsettled promise. */
async function bytesPerInFlightCall(
  start: (operation: () => Promise<number>) => Promise<unknown>,
  gc: () => void,
): Promise<number> {
  let release!: (value: number) => void;
  const pending = new Promise<number>((resolve) => {
    release = resolve;
  });
  const operation = () => pending;
  gc();
  const before = process.memoryUsage().heapUsed;
  const calls = Array.from({ length: inFlightCalls }, () => start(operation));
  gc();
  const during = process.memoryUsage().heapUsed;
  release(1);
  await Promise.all(calls);
  return Math.max(0, (during - before) / inFlightCalls);
}

const round1 = (value: number) => Math.round(value * 10) / 10;

const benchmark: Benchmark = async () => {
  const names = Object.keys(contenders) as Contender[];
  for (const name of names) await nsPerCall(contenders[name], warmupMs);

  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<
    Contender,
    number[]
  >;
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no contender always runs right after the same one.
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length] as Contender;
      samples[name].push(await nsPerCall(contenders[name], sliceMs));
    }
  }
  const perCall = Object.fromEntries(names.map((name) => [name, median(samples[name])])) as Record<
    Contender,
    number
  >;
  const overhead = (name: Contender) => Math.max(0, perCall[name] - perCall.bare);

  const gc = collectGarbage();
  const memory = {
    bare: await bytesPerInFlightCall((operation) => operation(), gc),
    ballast: await bytesPerInFlightCall((operation) => retry(operation, 'mutation'), gc),
    'ballast-timeout-signal': await bytesPerInFlightCall(
      (operation) => retry(operation, { preset: 'mutation', timeoutMs: 60_000, signal }),
      gc,
    ),
    'p-retry': await bytesPerInFlightCall(
      (operation) => pRetry(operation, { retries: 3, minTimeout: 500, factor: 2 }),
      gc,
    ),
    cockatiel: await bytesPerInFlightCall((operation) => cockatielPolicy.execute(operation), gc),
  };

  const ballast = overhead('ballast');
  const peer = overhead('p-retry');
  const cockatiel = overhead('cockatiel');
  const policy = overhead('ballast-policy');
  const targets = {
    'overhead ≤ 0.2 × p-retry (retry(fn, preset))': ballast <= 0.2 * peer,
    'overhead ≤ 3 × cockatiel (retry(fn, preset))': ballast <= 3 * cockatiel,
    'overhead ≤ 0.2 × p-retry (retryPolicy)': policy <= 0.2 * peer,
    'overhead ≤ 3 × cockatiel (retryPolicy)': policy <= 3 * cockatiel,
    // Issue 13: every call form within 2× cockatiel's overhead, the inline options object too.
    'overhead ≤ 2 × cockatiel (retry(fn, preset))': ballast <= 2 * cockatiel,
    'overhead ≤ 2 × cockatiel (retryPolicy)': policy <= 2 * cockatiel,
    'overhead ≤ 2 × cockatiel (retry(fn, { preset, signal }) inline)':
      overhead('ballast-inline-options') <= 2 * cockatiel,
  };
  const met = Object.values(targets).every(Boolean);
  return {
    name: 'retry',
    unit: 'ns of overhead per successful call, over a bare await (lower is better)',
    ballast: round1(ballast),
    peer: round1(peer),
    peerName: 'p-retry 7',
    ratio: Math.round((ballast / peer) * 1000) / 1000,
    peers: {
      cockatiel: round1(cockatiel),
      bare: round1(perCall.bare),
    },
    extra: {
      overheadNs: {
        'ballast retry(fn, preset)': round1(ballast),
        'ballast retryPolicy': round1(policy),
        'ballast retry(fn, { preset, signal }) inline': round1(overhead('ballast-inline-options')),
        'p-retry': round1(peer),
        'cockatiel 3.2': round1(cockatiel),
      },
      nsPerCall: Object.fromEntries(names.map((name) => [name, round1(perCall[name])])),
      bytesPerInFlightCall: Object.fromEntries(
        Object.entries(memory).map(([name, bytes]) => [name, Math.round(bytes)]),
      ),
      targets,
      targetsMet: met,
      method: `${rounds} interleaved rounds of ${sliceMs} ms slices per contender after ${warmupMs} ms warm-up; medians; ${inFlightCalls} calls in flight for memory`,
    },
    summary:
      `retry() overhead ${round1(ballast)} ns/call (policy ${round1(policy)}) vs p-retry ${round1(peer)} ` +
      `(ratio ${(ballast / peer).toFixed(3)}), cockatiel ${round1(cockatiel)}, bare await ${round1(perCall.bare)} ns; ` +
      `in flight ${Math.round(memory.ballast)} B/call vs p-retry ${Math.round(memory['p-retry'])}; ` +
      `targets ${met ? 'met' : 'NOT met'}`,
  };
};

export default benchmark;
