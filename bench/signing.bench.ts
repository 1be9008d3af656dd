/**
 * Sign and verify throughput of Ballast's signing module against the `standardwebhooks`
 * package, in one process, on the same payloads (1 KB and 64 KB).
 *
 * Ballast is measured in the Standard Webhooks format (same headers, same bytes signed: the fair
 * comparison) and in its default format (the seed's `${timestamp}.${body}`). Each operation is
 * measured two ways: `sequential` awaits one operation before starting the next (the latency of
 * one request); `concurrent` keeps 32 in flight, as a server verifying concurrent requests does.
 * The peer is synchronous (pure-JS SHA-256 on the main thread), so concurrency cannot help it;
 * WebCrypto runs the HMAC off the main thread, so it can. A bare `crypto.subtle.sign` call is
 * measured too: the platform's floor, which shows how much Ballast adds on top.
 *
 * Figures are the median of 3 interleaved rounds, so a burst of load on a shared machine skews
 * one round, not one library.
 *
 * Headline: verify ops/s at 1 KB, Standard Webhooks format, 32 in flight.
 */
import { Webhook } from 'standardwebhooks';
import { createSigner, createVerifier, generateSigningSecret } from '../packages/core/src/index.js';
import type { Benchmark } from './bench-result.js';

const sizes = { '1kb': 1024, '64kb': 65_536 } as const;
const inFlight = 32;
const rounds = 3;
const roundMs = 400;
const warmupMs = 200;
type Mode = 'sequential' | 'concurrent';

/** Operations per second of `operation` for `ms`, `parallel` at a time. */
async function opsPerSecond(operation: () => unknown, ms: number, parallel: number) {
  let count = 0;
  const started = performance.now();
  const deadline = started + ms;
  const worker = async () => {
    while (performance.now() < deadline) {
      await operation();
      count++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return (count / (performance.now() - started)) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]!);
}

/** A JSON body of exactly `size` bytes. */
function payload(size: number): string {
  const head = '{"type":"contract.created.v1","data":"';
  return `${head}${'x'.repeat(size - head.length - 2)}"}`;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

const benchmark: Benchmark = async () => {
  const secret = generateSigningSecret({ format: 'standard-webhooks' });
  const internalSecret = generateSigningSecret();
  const peer = new Webhook(secret);
  const webhookSigner = createSigner({ secret, format: 'standard-webhooks' });
  const webhookVerifier = createVerifier({ secret, format: 'standard-webhooks' });
  const defaultSigner = createSigner({ secret: internalSecret });
  const defaultVerifier = createVerifier({ secret: internalSecret });
  const rawKey = await crypto.subtle.importKey(
    'raw',
    crypto.getRandomValues(new Uint8Array(32)),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const encoder = new TextEncoder();

  const figures: Record<string, number> = {};
  for (const [label, size] of Object.entries(sizes)) {
    const body = payload(size);
    const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
    const webhookHeaders = await webhookSigner.sign({ nonce: id, body });
    // The default (strict) form signs method and path too; the verifier is given the same.
    const target = { method: 'POST', path: '/internal/contracts' };
    const defaultHeaders = await defaultSigner.sign({ ...target, body });
    // Each library must accept the other's signature before its speed means anything.
    peer.verify(body, webhookHeaders, { jsonParse: false });
    const timestamp = new Date(Number(webhookHeaders['webhook-timestamp']) * 1000);
    const peerHeaders = { ...webhookHeaders, 'webhook-signature': peer.sign(id, timestamp, body) };
    await webhookVerifier.verify({ body, headers: peerHeaders });

    const operations: Record<string, () => unknown> = {
      'peer.sign': () => peer.sign(id, timestamp, body),
      'peer.verify': () => peer.verify(body, peerHeaders, { jsonParse: false }),
      'ballast-webhooks.sign': () => webhookSigner.sign({ nonce: id, body }),
      'ballast-webhooks.verify': () => webhookVerifier.verify({ body, headers: peerHeaders }),
      'ballast-default.sign': () => defaultSigner.sign({ ...target, body }),
      'ballast-default.verify': () =>
        defaultVerifier.verify({ ...target, body, headers: defaultHeaders }),
      'webcrypto-floor.hmac': () =>
        crypto.subtle.sign('HMAC', rawKey, encoder.encode(`${id}.1700000000.${body}`)),
    };
    for (const mode of ['sequential', 'concurrent'] as Mode[]) {
      const parallel = mode === 'sequential' ? 1 : inFlight;
      const samples: Record<string, number[]> = {};
      for (const operation of Object.values(operations)) {
        await opsPerSecond(operation, warmupMs, parallel);
      }
      for (let round = 0; round < rounds; round++) {
        for (const [name, operation] of Object.entries(operations)) {
          const sample = await opsPerSecond(operation, roundMs, parallel);
          samples[name] = [...(samples[name] ?? []), sample];
        }
      }
      for (const [name, values] of Object.entries(samples)) {
        figures[`${name}.${label}.${mode}`] = median(values);
      }
    }
  }

  const figure = (name: string) => figures[name]!;
  const ratioOf = (operation: string, label: string, mode: Mode) =>
    round2(
      figure(`ballast-webhooks.${operation}.${label}.${mode}`) /
        figure(`peer.${operation}.${label}.${mode}`),
    );
  const ballast = figure('ballast-webhooks.verify.1kb.concurrent');
  const peerFigure = figure('peer.verify.1kb.concurrent');
  const ratios = {
    'verify.1kb.concurrent': ratioOf('verify', '1kb', 'concurrent'),
    'verify.1kb.sequential': ratioOf('verify', '1kb', 'sequential'),
    'verify.64kb.concurrent': ratioOf('verify', '64kb', 'concurrent'),
    'verify.64kb.sequential': ratioOf('verify', '64kb', 'sequential'),
    'sign.1kb.concurrent': ratioOf('sign', '1kb', 'concurrent'),
    'sign.1kb.sequential': ratioOf('sign', '1kb', 'sequential'),
    'sign.64kb.concurrent': ratioOf('sign', '64kb', 'concurrent'),
    'sign.64kb.sequential': ratioOf('sign', '64kb', 'sequential'),
  };
  return {
    name: 'signing',
    unit: `verify ops/s at 1 KB, Standard Webhooks format, ${inFlight} in flight (higher is better)`,
    ballast,
    peer: peerFigure,
    peerName: 'standardwebhooks',
    ratio: round2(ballast / peerFigure),
    peers: Object.fromEntries(Object.entries(figures).filter(([name]) => name.startsWith('peer.'))),
    extra: {
      ...Object.fromEntries(Object.entries(figures).filter(([name]) => !name.startsWith('peer.'))),
      ratiosBallastWebhooksOverPeer: ratios,
      inFlight,
      rounds,
      roundMs,
    },
    summary: `verify 1 KB: ${ballast} vs ${peerFigure} ops/s (×${ratios['verify.1kb.concurrent']}, ${inFlight} in flight; ×${ratios['verify.1kb.sequential']} one at a time); verify 64 KB ×${ratios['verify.64kb.sequential']} one at a time`,
  };
};

export default benchmark;
