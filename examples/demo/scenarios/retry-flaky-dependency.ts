/**
 * Seeds 000 §2 and 002 §2.3: a flaky dependency recovered by retry with backoff, the server's
 * Retry-After respected, a POST without an Idempotency-Key never repeated, and a cancel that
 * does not wait out the backoff. Time runs on a ManualClock, so the real schedule (seconds of
 * waiting) is shown exactly and replayed in milliseconds; nothing else is simulated.
 */
import { isBallastError, ManualClock, type RetryOptions, retry } from '@ballast/core';
import type { DemoScenario } from '../scenario.js';

/** A fake HTTP failure shaped like ky's or axios's errors: a status and headers. */
function httpError(status: number, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`HTTP ${status}`), { status, headers });
}

const describeError = (error: unknown) =>
  isBallastError(error)
    ? error.code
    : error instanceof Error
      ? `${error.message}${'code' in error ? ` (${String(error.code)})` : ''}`
      : String(error);

const scenario: DemoScenario = {
  title: 'Retry recovers a flaky dependency (backoff, Retry-After, idempotency guard, cancel)',
  order: 10,
  async run(say) {
    const clock = new ManualClock();
    const checks: boolean[] = [];
    const at = () => `t=${clock.now()} ms`;
    // A fixed "random" source: equal jitter then waits exactly 80% of each nominal delay.
    const options: RetryOptions = {
      preset: 'mutation',
      clock,
      random: () => 0.6,
      on: {
        retry: ({ attempt, delay }) =>
          say(`  attempt ${attempt} failed; waiting ${delay} ms before attempt ${attempt + 1}`),
      },
    };
    say('Times below are on a simulated clock: the real waits are shown, not slept.');

    say(
      "1) Saving a case: the API fails twice, then answers ('mutation' preset: 500, 1000, 2000 ms, equal jitter).",
    );
    const failures = [
      httpError(503),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    ];
    let calls = 0;
    const saved = retry(async ({ attempt }) => {
      calls++;
      const failure = failures[attempt - 1];
      say(`  ${at()} attempt ${attempt} → ${failure ? describeError(failure) : '200 OK'}`);
      if (failure) throw failure;
      return { id: 'case-17', version: 3 };
    }, options);
    await clock.runAll();
    const result = await saved;
    say(`  saved ${result.id} after ${calls} attempts, ${clock.now()} ms after the first`);
    checks.push(calls === 3 && clock.now() === 400 + 800);

    say('2) Rate limited: a 429 with Retry-After: 2 is retried no sooner than the server asked.');
    const start = clock.now();
    let limited = true;
    const listed = retry(
      async ({ attempt }) => {
        say(
          `  ${at()} attempt ${attempt} → ${limited ? '429 Too Many Requests, Retry-After: 2' : '200 OK'}`,
        );
        if (limited) {
          limited = false;
          throw httpError(429, { 'retry-after': '2' });
        }
        return ['invoice-1', 'invoice-2'];
      },
      { ...options, preset: 'read' },
    );
    await clock.runAll();
    const invoices = await listed;
    checks.push(invoices.length === 2 && clock.now() - start === 2_000);

    say('3) A POST without an Idempotency-Key is never repeated: the first failure is final.');
    let posts = 0;
    const sale = retry(
      async () => {
        posts++;
        throw httpError(503);
      },
      {
        ...options,
        request: { method: 'POST' },
        on: {
          ...options.on,
          giveUp: ({ reason, attempts }) => say(`  gave up after ${attempts} attempt: ${reason}`),
        },
      },
    ).catch((error: unknown) => error);
    await clock.runAll();
    say(`  → ${describeError(await sale)} reached the caller; the sale was sent ${posts} time`);
    checks.push(posts === 1);

    say('   With an Idempotency-Key the server can deduplicate, so it is retried.');
    let keyedPosts = 0;
    const keyed = retry(
      async () => {
        keyedPosts++;
        if (keyedPosts === 1) throw httpError(503);
        return 'created';
      },
      { ...options, request: { method: 'POST', headers: { 'Idempotency-Key': 'sale-7f3a' } } },
    );
    await clock.runAll();
    say(`  → ${await keyed} after ${keyedPosts} attempts`);
    checks.push(keyedPosts === 2);

    say('4) The user leaves during a backoff: the retry rejects at once, without waiting it out.');
    const controller = new AbortController();
    const cancelled = retry(
      async () => {
        throw httpError(502);
      },
      { ...options, preset: 'read', signal: controller.signal },
    ).catch((error: unknown) => error);
    await clock.advance(100);
    const abortedAt = clock.now();
    controller.abort(new Error('user left the page'));
    const reason = await cancelled;
    say(
      `  ${at()} → rejected with "${(reason as Error).message}"; ${clock.pendingTimers} timers left`,
    );
    checks.push(clock.now() === abortedAt && clock.pendingTimers === 0);

    return checks.every(Boolean);
  },
};

export default scenario;
