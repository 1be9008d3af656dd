/**
 * Issue 14's promises, without servers: a stale edit is refused with the current version and
 * merged field by field instead of lost, and failures reach the client as typed problem+json
 * (a Postgres unique violation, an unknown error with its detail kept for the log only).
 */
import { BallastError, mergeFields, VersionConflictError } from '@ballast/core';
import { assertIfMatch, toResponse, versionETag } from '@ballast/server';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'Server kit: a concurrent edit is never lost, every failure is a typed problem',
  order: 40,
  async run(say) {
    const checks: boolean[] = [];

    say('1) Two tills load sale #7 at version 1 (ETag "1"); till A saves first:');
    const base = { item: 'coffee', quantity: 2, note: '' };
    const theirs = { ...base, quantity: 3 }; // till A, now version 2
    const mine = { ...base, note: 'no sugar' }; // till B, still at version 1
    let refused: unknown;
    try {
      assertIfMatch(versionETag(1), 2, { current: theirs });
    } catch (error) {
      refused = error;
    }
    const problem = (await toResponse(refused).json()) as Record<string, unknown>;
    say(
      `  till B's If-Match "1" → ${problem.status} ${problem.code}, currentVersion ${problem.currentVersion}`,
    );
    checks.push(problem.status === 412 && problem.currentVersion === 2);

    say('2) Till B merges field by field instead of overwriting:');
    const merged = mergeFields(base, mine, theirs);
    say(
      `  ${merged.ok ? `merged: ${JSON.stringify(merged.merged)}` : `conflicts: ${merged.conflicts}`}`,
    );
    checks.push(merged.ok && merged.merged.quantity === 3 && merged.merged.note === 'no sugar');
    const clash = mergeFields(base, { ...base, quantity: 5 }, theirs);
    say(
      `  both changing quantity → ${clash.ok ? 'merged (wrong!)' : `conflict on ${clash.conflicts.join(', ')}`}`,
    );
    checks.push(!clash.ok);

    say('3) Failures as the client sees them (Accept-Language: es):');
    const duplicate = Object.assign(
      new Error('duplicate key value violates unique constraint "users_email_key"'),
      {
        code: '23505',
        severity: 'ERROR',
        constraint: 'users_email_key',
      },
    );
    const unknown = new Error('relation "secret_internal_table" does not exist');
    for (const error of [
      duplicate,
      unknown,
      new VersionConflictError({ currentVersion: 4 }),
      new BallastError('CASE_CLOSED'),
    ]) {
      const response = toResponse(error, { acceptLanguage: 'es' });
      const text = await response.text();
      const body = JSON.parse(text) as { code: string; detail: string };
      say(`  ${response.status} ${body.code}: ${body.detail}`);
      checks.push(!/secret_internal_table|users_email_key|violates/.test(text));
    }
    return checks.every(Boolean);
  },
};

export default scenario;
