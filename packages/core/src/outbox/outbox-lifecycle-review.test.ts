/**
 * Review of the outbox pipeline's lifecycle as an operator drives it: start and stop called
 * twice or out of order, a listener that throws, and a process that must exit once everything
 * is stopped (no timer or listener left holding the event loop).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/event-definition.js';
import { createFunctionPublisher } from './function-publisher.js';
import { MemoryOutbox } from './memory-outbox.js';
import { createRelay } from './relay.js';

const Tick = defineEvent('tick', 1, z.object({ n: z.number() }));
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('outbox lifecycle', () => {
  it('tolerates stop() before start(), start() twice and stop() twice; a throwing listener changes nothing', async () => {
    const outbox = new MemoryOutbox();
    const delivered: number[] = [];
    const relay = createRelay({
      store: outbox,
      pollIntervalMs: 20,
      publisher: createFunctionPublisher(async (events) => {
        for (const event of events) delivered.push((event.payload as { n: number }).n);
      }),
      on: {
        published: () => {
          throw new Error('listener bug');
        },
      },
    });
    await relay.stop();
    expect(relay.state).toBe('idle');
    relay.start();
    relay.start();
    await outbox.transaction(async (trx) => {
      await outbox.publishMany(trx, [Tick.create({ n: 1 }), Tick.create({ n: 2 })]);
    });
    for (let i = 0; i < 100 && delivered.length < 2; i++) await sleep(20);
    expect(delivered).toEqual([1, 2]);
    await Promise.all([relay.stop(), relay.stop()]);
    expect(relay.state).toBe('stopped');
    expect((await outbox.entries()).every((row) => row.sent)).toBe(true);
  });

  it('stop() refuses a signal that is not an AbortSignal with INVALID_OPTIONS, and still stops', async () => {
    const relay = createRelay({
      store: new MemoryOutbox(),
      pollIntervalMs: 20,
      publisher: createFunctionPublisher(async () => {}),
    });
    relay.start();
    // Was a raw TypeError (signal.addEventListener is not a function), thrown before the stop
    // began: a SIGTERM handler passing a timeout in ms left the relay running.
    for (const stopOptions of [{ signal: 10_000 }, { timeoutMs: 10_000 }, null]) {
      await expect(relay.stop(stopOptions as never)).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('relay.stop()'),
      });
    }
    expect(relay.state).toBe('running');
    await relay.stop();
    expect(relay.state).toBe('stopped');
  });

  it('relay.on() refuses a misspelt event or a listener that is not a function', () => {
    const relay = createRelay({
      store: new MemoryOutbox(),
      publisher: createFunctionPublisher(async () => {}),
    });
    // relay.on('deadletter', page) was kept and never called: the alert never fired.
    expect(() => relay.on('deadletter' as never, (() => {}) as never)).toThrow(
      /relay\.on\(\).*deadLetter/,
    );
    expect(() => relay.on('deadLetter', undefined as never)).toThrow(/relay\.on\(\)/);
    expect(typeof relay.on('deadLetter', () => {})).toBe('function');
  });

  it('createRelay() refuses a name with a control character (it goes into owner tokens and logs)', () => {
    for (const name of ['relay\n{"level":"info"}', 'relay\u0000a']) {
      expect(() =>
        createRelay({
          store: new MemoryOutbox(),
          publisher: createFunctionPublisher(async () => {}),
          name,
        }),
      ).toThrow(/createRelay\(\).*name/);
    }
  });

  it('lets the process exit right after stop() (no timer keeps it alive)', () => {
    const root = resolve(import.meta.dirname, '..');
    const dir = mkdtempSync(join(tmpdir(), 'ballast-r1-'));
    const script = join(dir, 'relay-exit.mjs');
    writeFileSync(
      script,
      `const root = ${JSON.stringify(root)};
const { MemoryOutbox } = await import(root + '/outbox/memory-outbox.ts');
const { createRelay } = await import(root + '/outbox/relay.ts');
const { createFunctionPublisher } = await import(root + '/outbox/function-publisher.ts');
const outbox = new MemoryOutbox();
const relay = createRelay({
  store: outbox,
  publisher: createFunctionPublisher(async () => {}),
  pollIntervalMs: 60_000,
  depthCheckIntervalMs: 60_000,
  cleanupIntervalMs: 60_000,
});
relay.start();
await new Promise((done) => setTimeout(done, 100));
await relay.stop();
const stoppedAt = Date.now();
process.on('exit', () => console.log('exit-after-ms', Date.now() - stoppedAt));
`,
    );
    try {
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
        cwd: resolve(root, '../../..'),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(child.stderr).toBe('');
      const match = /exit-after-ms (\d+)/.exec(child.stdout);
      expect(match).not.toBeNull();
      // A 60 s poll, depth or cleanup timer left running would hold the process for a minute.
      expect(Number(match?.[1])).toBeLessThan(5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
