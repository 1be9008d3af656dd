/**
 * The offline write queue in Chromium: how fast writes are stored in IndexedDB while offline,
 * and how fast a queue replays them against the local till server, next to a plain sequential
 * `fetch` loop sending the same requests (the floor: no storage, no bookkeeping). Both send to
 * the same server (express + idempotency middleware + PGlite), each request with its own
 * `Idempotency-Key`. Rounds are interleaved and the best of each kept. Target: replay ≥ 0.8×
 * the plain loop.
 */
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import { openDatabase } from '../examples/express-sales/src/database.js';
import { bundlePage, createPosApp } from '../examples/offline-pos/src/pos-server.js';
import type { Benchmark } from './bench-result.js';

const writes = Number(process.env.BALLAST_BENCH_WRITES ?? 200);
const rounds = 3;

/** The floor: the same POSTs, one after another, with plain fetch. Resolves with writes/s. */
const plainLoop = `async (count) => {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const response = await fetch('/sales', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': '"' + crypto.randomUUID() + '"' },
      body: JSON.stringify({ item: 'bench-plain', quantity: 1, unitPriceCents: 100 }),
    });
    await response.text();
  }
  return (count * 1000) / (performance.now() - started);
}`;

/**
 * One queue round: enqueue `count` writes while a switchable connectivity says offline (into
 * IndexedDB), then switch it online and time `flush()` until the queue is empty.
 */
const queueRound = `async (count, round) => {
  const connectivity = { status: 'offline', on: () => () => {} };
  const queue = ballast.createWriteQueue({
    client: ballast.createClient({ retry: { writes: 0 } }),
    connectivity,
    name: 'bench-' + round,
    storage: 'indexeddb',
  });
  await queue.ready;
  let started = performance.now();
  for (let i = 0; i < count; i++) {
    await queue.send({ path: '/sales', body: { item: 'bench-queue', quantity: 1, unitPriceCents: 100 } });
  }
  const enqueue = (count * 1000) / (performance.now() - started);
  connectivity.status = 'online';
  started = performance.now();
  await queue.flush();
  const replay = (count * 1000) / (performance.now() - started);
  const left = (await queue.list()).length;
  queue.close();
  return { enqueue, replay, left };
}`;

const benchmark: Benchmark = async () => {
  const database = await openDatabase();
  const app = createPosApp({ db: database.db, script: await bundlePage() });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => console.error(`client-queue page error: ${error.message}`));
    await page.goto(origin);
    await page.waitForFunction('globalThis.ballast !== undefined', undefined, { timeout: 120_000 });
    const best = { enqueue: 0, replay: 0, plain: 0 };
    for (let round = 0; round < rounds; round++) {
      // Page code as text: tsx compiles functions with a `__name` helper the page lacks.
      const plain = (await page.evaluate(`(${plainLoop})(${writes})`)) as number;
      const queued = (await page.evaluate(`(${queueRound})(${writes}, ${round})`)) as {
        enqueue: number;
        replay: number;
        left: number;
      };
      if (queued.left !== 0) throw new Error(`${queued.left} writes left after the replay`);
      best.plain = Math.max(best.plain, plain);
      best.enqueue = Math.max(best.enqueue, queued.enqueue);
      best.replay = Math.max(best.replay, queued.replay);
    }
    const ratio = best.replay / best.plain;
    const round1 = (value: number) => Math.round(value * 10) / 10;
    return {
      name: 'client-queue',
      unit: 'writes replayed per second against the local server, best of 3 (higher is better)',
      ballast: round1(best.replay),
      peer: round1(best.plain),
      peerName: 'sequential fetch loop (no storage)',
      ratio: Math.round(ratio * 100) / 100,
      extra: {
        writes,
        enqueuePerSecond: round1(best.enqueue),
        target: 'replay ≥ 0.8× the plain loop',
        targetMet: ratio >= 0.8,
        browser: browser.version(),
      },
      summary: `replay ${round1(best.replay)}/s vs plain fetch ${round1(best.plain)}/s (${ratio.toFixed(2)}×), enqueue ${round1(best.enqueue)}/s into IndexedDB`,
    };
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
    await database.db.destroy();
  }
};

export default benchmark;
