/**
 * Issue 14's guards, without servers: an invitation is accepted only before it expires (410
 * `EXPIRED`, read on a manual clock instead of waiting), and seed 000 §1's sign-up ("create the
 * account, then the profile; delete the account if the profile fails") never leaves an account
 * without a profile.
 */
import { assertNotExpired, compensate, ManualClock } from '@ballast/core';
import { toResponse } from '@ballast/server';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'Server kit guards: expiry on a clock, a sign-up that undoes itself',
  order: 41,
  async run(say) {
    const checks: boolean[] = [];

    say('1) An invitation valid for 48 h, checked on a manual clock:');
    const clock = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
    const invitation = { email: 'ana@example.com', expiresAt: clock.now() + 48 * 3_600_000 };
    const accept = async () => {
      try {
        assertNotExpired(invitation.expiresAt, clock);
        return 'accepted';
      } catch (error) {
        const body = (await toResponse(error, { acceptLanguage: 'es' }).json()) as {
          status: number;
          code: string;
          detail: string;
        };
        return `${body.status} ${body.code}: ${body.detail}`;
      }
    };
    await clock.advance(47 * 3_600_000);
    const early = await accept();
    say(`  after 47 h → ${early}`);
    checks.push(early === 'accepted');
    await clock.advance(3_600_000);
    const late = await accept();
    say(`  after 48 h → ${late}`);
    checks.push(late.startsWith('410 EXPIRED'));

    say('2) Sign-up: the account, then the profile; the profile store is down:');
    const accounts = new Map<string, string>();
    let failure: unknown;
    try {
      await compensate({
        name: 'sign-up',
        run: () => {
          const id = `acc-${accounts.size + 1}`;
          accounts.set(id, invitation.email);
          say(`  account ${id} created`);
          return id;
        },
        andThen: () => {
          throw new Error('profile store unavailable');
        },
        undo: (id) => {
          accounts.delete(id);
          say(`  profile failed → account ${id} deleted again`);
        },
      });
    } catch (error) {
      failure = error;
    }
    say(
      `  caller sees "${failure instanceof Error ? failure.message : String(failure)}"; accounts left: ${accounts.size}`,
    );
    checks.push(failure instanceof Error && accounts.size === 0);
    return checks.every(Boolean);
  },
};

export default scenario;
