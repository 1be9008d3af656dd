/**
 * Seed 002 §2.3 and 003 "bounded work": a time limit that stops the work instead of merely
 * giving up on it. Real timers, kept short (100 ms), so this takes about a tenth of a second.
 */
import { isBallastError, withTimeout } from '@ballast/core';
import type { DemoScenario } from '../scenario.js';

/** Work that takes `ms` unless its signal aborts it first; reports what it saw. */
function slowQuery(ms: number, signal: AbortSignal, seen: string[]): Promise<string> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve('rows'), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      seen.push(
        `the query saw its signal abort after ${Math.round(performance.now() - started)} ms and stopped`,
      );
      reject(signal.reason);
    });
  });
}

const scenario: DemoScenario = {
  title: 'A timeout aborts slow work, and the work sees the abort',
  order: 11,
  async run(say) {
    const checks: boolean[] = [];

    say('1) A report query that would take 5 s, limited to 100 ms:');
    const seen: string[] = [];
    const started = performance.now();
    const outcome = await withTimeout((signal) => slowQuery(5_000, signal, seen), 100).catch(
      (error: unknown) => error,
    );
    const elapsed = Math.round(performance.now() - started);
    for (const line of seen) say(`  ${line}`);
    const timedOut = isBallastError(outcome, 'TIMEOUT');
    say(
      `  the caller got ${timedOut ? `${outcome.code} (retryable: ${outcome.retryable})` : 'something else'} after ${elapsed} ms`,
    );
    checks.push(timedOut && seen.length === 1 && elapsed < 1_000);

    say('2) The same query when the user cancels first (at 20 ms):');
    const cancelSeen: string[] = [];
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('request cancelled by the user')), 20);
    const cancelled = await withTimeout((signal) => slowQuery(5_000, signal, cancelSeen), 100, {
      signal: controller.signal,
    }).catch((error: unknown) => error);
    for (const line of cancelSeen) say(`  ${line}`);
    say(`  the caller got "${(cancelled as Error).message}" (the user's reason, not a timeout)`);
    checks.push(cancelled === controller.signal.reason && cancelSeen.length === 1);

    say('3) A fast query within the limit just returns its rows:');
    const rows = await withTimeout((signal) => slowQuery(5, signal, []), 100);
    say(`  → ${rows}`);
    checks.push(rows === 'rows');

    return checks.every(Boolean);
  },
};

export default scenario;
