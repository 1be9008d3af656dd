/**
 * Seed 003 §4: an edge accepts only calls its API signed in the last few minutes, exactly as
 * sent, once. The API signs a call; the edge verifies it, refuses a tampered copy and a replay
 * with their codes, and keeps accepting calls through a key rotation.
 */
import {
  createSigner,
  createVerifier,
  generateSigningSecret,
  isBallastError,
  ManualClock,
  MemoryNonceStore,
} from '@ballast/core';
import type { DemoScenario } from '../scenario.js';

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    return isBallastError(error) ? `${error.status} ${error.code}` : 'crashed';
  }
}

const scenario: DemoScenario = {
  title: 'Signed internal calls: only what the API signed, unchanged, once',
  order: 40,
  async run(say) {
    const clock = new ManualClock(Date.UTC(2025, 5, 1, 12));
    const oldSecret = generateSigningSecret();
    const newSecret = generateSigningSecret();
    const strict = { canonical: 'strict', clock } as const;
    const api = createSigner({
      ...strict,
      secrets: [{ id: 'k1', secret: oldSecret }],
      nonce: true,
    });
    const edge = createVerifier({
      ...strict,
      secrets: [{ id: 'k1', secret: oldSecret }],
      nonceStore: new MemoryNonceStore({ clock }),
    });
    const checks: boolean[] = [];

    const call = {
      method: 'POST',
      path: '/contracts',
      body: '{"customer_id":"c1","plan_id":"p1"}',
      headers: { 'x-tenant-id': 'tenant-a', 'idempotency-key': 'f3b9c1de-0001' } as Record<
        string,
        string
      >,
    };
    const signature = await api.sign(call);
    const signed = { ...call, headers: { ...call.headers, ...signature } };
    say(
      `API signs POST /contracts for tenant-a with key k1 (x-internal-signature ${signature['x-internal-signature']?.slice(0, 12)}…)`,
    );

    const first = await refusal(edge.verify(signed));
    say(`edge verifies it: ${first}`);
    checks.push(first === 'accepted');

    const tampered = { ...signed, headers: { ...signed.headers, 'x-tenant-id': 'tenant-b' } };
    const tamperedResult = await refusal(edge.verify(tampered));
    say(`same call with x-tenant-id switched to tenant-b: ${tamperedResult}`);
    checks.push(tamperedResult === '403 SIGNATURE_INVALID');

    const direct = await refusal(edge.verify(call));
    say(`direct call without a signature: ${direct}`);
    checks.push(direct === '403 SIGNATURE_MISSING');

    await clock.advance(30_000);
    const replay = await refusal(edge.verify(signed));
    say(`the captured call replayed 30 s later: ${replay}`);
    checks.push(replay === '403 SIGNATURE_REPLAYED');

    await clock.advance(5 * 60_000);
    const late = await refusal(edge.verify(signed));
    say(`replayed again 5.5 min after signing: ${late}`);
    checks.push(late === '403 SIGNATURE_EXPIRED');

    // Rotation: the edge learns k2 first, then the API switches to it; k1 stays valid meanwhile.
    const rotatingEdge = createVerifier({
      ...strict,
      secrets: [
        { id: 'k2', secret: newSecret },
        { id: 'k1', secret: oldSecret },
      ],
      nonceStore: new MemoryNonceStore({ clock }),
    });
    const rotatedApi = createSigner({
      ...strict,
      secrets: [
        { id: 'k2', secret: newSecret },
        { id: 'k1', secret: oldSecret },
      ],
      nonce: true,
    });
    const fromNew = { ...call, headers: { ...call.headers, ...(await rotatedApi.sign(call)) } };
    const fromOld = { ...call, headers: { ...call.headers, ...(await api.sign(call)) } };
    const rotated = await refusal(rotatingEdge.verify(fromNew));
    const stillOld = await refusal(rotatingEdge.verify(fromOld));
    say(
      `after rotation: a call signed with k2 is ${rotated}; one still signed with k1 is ${stillOld}`,
    );
    checks.push(rotated === 'accepted' && stillOld === 'accepted');

    return checks.every(Boolean);
  },
};

export default scenario;
