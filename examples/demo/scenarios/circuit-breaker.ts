/**
 * Seed 004 "future work": a circuit breaker for the storage API. Real timers, kept short: the
 * circuit stays open 300 ms, so this takes about a third of a second.
 */
import { createCircuitBreaker, isBallastError } from '@ballast/core';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'A circuit breaker opens after failures, rejects fast, half-opens and recovers',
  order: 12,
  async run(say) {
    const checks: boolean[] = [];
    const breaker = createCircuitBreaker({
      consecutiveFailures: 3,
      halfOpenAfterMs: 300,
      on: {
        break: ({ reason }) => say(`  ⚡ circuit OPEN (${reason})`),
        halfOpen: () => say('  … circuit HALF-OPEN: one probe call goes through'),
      },
    });
    breaker.on('reset', () => say('  ✓ circuit CLOSED again'));

    let storageUp = false;
    let storageCalls = 0;
    const headObject = () =>
      breaker.execute(async () => {
        storageCalls++;
        await new Promise((resolve) => setTimeout(resolve, 20)); // a real round trip
        if (!storageUp) throw Object.assign(new Error('503 Service Unavailable'), { status: 503 });
        return 'exists';
      });

    say('1) Storage is down; each call fails after a 20 ms round trip:');
    for (let i = 1; i <= 3; i++) {
      const error = await headObject().catch((e: unknown) => e);
      say(`  call ${i} → ${(error as Error).message}`);
    }
    checks.push(breaker.state === 'open');

    say('2) While open, calls are rejected at once without touching storage:');
    const before = storageCalls;
    const started = performance.now();
    const rejection = await headObject().catch((e: unknown) => e);
    const micros = Math.round((performance.now() - started) * 1_000);
    if (isBallastError(rejection, 'CIRCUIT_OPEN')) {
      say(
        `  → ${rejection.code} in ${micros} µs, retry after ~${rejection.details.retryAfterMs} ms; storage calls: ${storageCalls - before}`,
      );
    }
    checks.push(isBallastError(rejection, 'CIRCUIT_OPEN') && storageCalls === before);

    say('3) Storage recovers; after 300 ms the next call is the probe:');
    storageUp = true;
    await new Promise((resolve) => setTimeout(resolve, 310));
    const probe = headObject();
    const turnedAway = await headObject().catch((e: unknown) => e);
    say(
      `  a concurrent call during the probe → ${isBallastError(turnedAway) ? turnedAway.code : 'let through'}`,
    );
    say(`  probe → ${await probe}`);
    checks.push(isBallastError(turnedAway, 'CIRCUIT_OPEN') && breaker.state === 'closed');

    say('4) Closed again: calls flow normally.');
    say(`  call → ${await headObject()}`);
    return checks.every(Boolean);
  },
};

export default scenario;
