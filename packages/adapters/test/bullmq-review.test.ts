/**
 * An attacker's review of `@ballast/adapters/bullmq`: options and filters from a careless or
 * hostile caller, jobs whose data was not written by a Ballast publisher, and shutdown.
 */

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  type BullmqJobReader,
  type BullmqQueue,
  createBullmqPublisher,
  createConsumer,
  readJobStatus,
  redriveDeadLetters,
} from '@ballast/adapters/bullmq';
import {
  createEventCatalog,
  defineEvent,
  handleEvent,
  isBallastError,
  MemoryInboxStore,
} from '@ballast/core';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bullmqTestBackend, eventually } from './support/bullmq-backends.js';
import { describeWith } from './support/services.js';

const OrderCreated = defineEvent('order.created', 1, z.object({ orderId: z.string() }));
const catalog = createEventCatalog({ events: [OrderCreated] });

async function codeOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return isBallastError(error) ? error.code : error;
  }
  return 'no error';
}

// Never reached: the calls below are refused before any read.
const fakeReader: BullmqJobReader = {
  name: 'fake',
  getJob: async () => undefined,
  getJobState: async () => 'unknown',
  getFailed: async () => [],
  getJobLogs: async () => ({ logs: [], count: 0 }),
};

describe('BullMQ adapter: hostile options and filters', () => {
  it('every public function refuses a missing argument with INVALID_OPTIONS naming it', async () => {
    expect(await codeOf(() => createConsumer(undefined as never))).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => createBullmqPublisher(undefined as never))).toBe('INVALID_OPTIONS');
    await expect(readJobStatus(undefined as never, 'e-1')).rejects.toThrow(/readJobStatus\(\)/);
    expect(await codeOf(() => readJobStatus(undefined as never, 'e-1'))).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => readJobStatus({} as never, 'e-1'))).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => readJobStatus(fakeReader, undefined as never))).toBe(
      'INVALID_OPTIONS',
    );
    await expect(redriveDeadLetters(undefined as never)).rejects.toThrow(/redrive/);
    expect(await codeOf(() => redriveDeadLetters(undefined as never))).toBe('INVALID_OPTIONS');
    expect(await codeOf(() => redriveDeadLetters({ name: 'q' } as never))).toBe('INVALID_OPTIONS');
  });

  it('createConsumer refuses handlers that are not subscriptions', async () => {
    const base = {
      queue: 'q',
      connection: { host: '127.0.0.1', port: 1 },
      catalog,
      inbox: new MemoryInboxStore(),
      autorun: false,
    };
    for (const handlers of [[undefined], [{}], ['x'], [42]]) {
      const error = await codeOf(() => createConsumer({ ...base, handlers } as never));
      expect(error, JSON.stringify(handlers)).toBe('INVALID_OPTIONS');
    }
  });

  it('redrive refuses hostile filters', async () => {
    const hostile: unknown[] = [
      null,
      'all',
      { limit: -1 },
      { limit: 0 },
      { limit: 1e9 },
      { limit: Number.NaN },
      { limit: 1.5 },
      { limit: '10' },
      { since: new Date('not a date') },
      { since: '2026-01-01' },
      { since: 0 },
      { type: 5 },
      { type: '' },
      { type: 'x'.repeat(10_000) },
      { state: 'completed' },
      JSON.parse('{"__proto__": {"limit": 5}}'),
    ];
    for (const filter of hostile) {
      expect(
        await codeOf(() => redriveDeadLetters(fakeReader, filter as never)),
        String(filter),
      ).toBe('INVALID_OPTIONS');
    }
  });

  it('readJobStatus refuses hostile event ids', async () => {
    for (const eventId of ['', 'x'.repeat(201), 42, {}, null]) {
      expect(await codeOf(() => readJobStatus(fakeReader, eventId as never))).toBe(
        'INVALID_OPTIONS',
      );
    }
  });

  it('createBullmqPublisher refuses job options of the wrong type or unknown to BullMQ', async () => {
    const queue: BullmqQueue = { name: 'fake', addBulk: async () => [], close: async () => {} };
    const refused: unknown[] = [
      null,
      'fast',
      { attempts: 0 },
      { attempts: -1 },
      { attempts: 1.5 },
      { attempts: '3' },
      { delay: -5 },
      { delay: Number.NaN },
      { priority: -1 },
      { backoff: 'exponential' },
      { backoff: { delay: 10 } },
      { backoff: { type: 'fixed', delay: -1 } },
      { removeOnComplete: -1 },
      { removeOnFail: { age: 'a day' } },
      { lifo: 'yes' },
      { atempts: 5 },
      // Deduplication would silently drop a different event that shares the dedup id.
      { deduplication: { id: 'x' } },
      { debounce: { id: 'x' } },
      JSON.parse('{"__proto__": {"attempts": 5}}'),
    ];
    for (const jobOptions of refused) {
      expect(
        await codeOf(() => createBullmqPublisher({ queue, jobOptions: jobOptions as never })),
        JSON.stringify(jobOptions),
      ).toBe('INVALID_OPTIONS');
    }
    // What a user of BullMQ sets is still accepted.
    createBullmqPublisher({
      queue,
      jobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
        removeOnComplete: { age: 3_600, count: 1_000 },
        removeOnFail: 5_000,
        priority: 3,
        delay: 0,
        lifo: false,
        keepLogs: 50,
        stackTraceLimit: 5,
        sizeLimit: 1_000_000,
        telemetry: { omitContext: true },
      },
    });
    createBullmqPublisher({ queue, jobOptions: { backoff: 200, removeOnFail: false } });
  });

  it('publish refuses what is not a list of envelopes, before reaching the engine', async () => {
    let calls = 0;
    const queue: BullmqQueue = {
      name: 'fake',
      addBulk: async () => {
        calls += 1;
        return [];
      },
      close: async () => {},
    };
    const publisher = createBullmqPublisher({ queue });
    for (const events of [undefined, 'x', {}, [null], [{}], [{ type: 'a.v1' }], [{ id: 'e' }]]) {
      expect(await codeOf(() => publisher.publish(events as never)), JSON.stringify(events)).toBe(
        'INVALID_OPTIONS',
      );
    }
    // An envelope without an id would get a random job id: a re-publish would run it twice.
    expect(calls).toBe(0);
    await publisher.publish([OrderCreated.create({ orderId: 'o-1' })]);
    expect(calls).toBe(1);
  });
});

describeWith('redis', 'BullMQ adapter: hostile jobs and shutdown (BullMQ on Redis)', () => {
  const engine = bullmqTestBackend('redis');
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await engine.cleanUp();
  });

  it('jobs whose data is not an event are dead letters with a reason; the worker lives on', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const name = engine.queueName('hostile');
    const queue = engine.openQueue(name);
    closers.push(() => queue.close());
    const handled: string[] = [];
    const consumer = createConsumer({
      queue: name,
      connection: engine.connection,
      catalog,
      handlers: [handleEvent(OrderCreated, (event) => void handled.push(event.payload.orderId))],
      inbox: new MemoryInboxStore(),
      concurrency: 4,
    });
    closers.push(() => consumer.close());
    const valid = OrderCreated.create({ orderId: 'o-ok' });
    const hostile: Array<[string, unknown]> = [
      ['string', 'just a string'],
      ['number', 42],
      ['null', null],
      ['array', [valid]],
      ['proto', JSON.parse(`{"__proto__": ${JSON.stringify(valid)}}`)],
      ['wrong-types', { ...valid, id: 7, type: ['order.created.v1'], payload: 'x' }],
      ['huge', { ...valid, id: 'huge-1', payload: { orderId: 5, junk: 'x'.repeat(2_000_000) } }],
      [
        'deep',
        { ...valid, id: 'deep-1', payload: JSON.parse(`${'['.repeat(1_000)}${']'.repeat(1_000)}`) },
      ],
    ];
    for (const [jobId, data] of hostile) {
      await queue.add('order.created.v1', data, { jobId, attempts: 3 });
    }
    await queue.add(valid.type, valid, { jobId: valid.id });
    for (const [jobId] of hostile) {
      const dead = await eventually(
        async () => {
          const status = await consumer.status(jobId);
          return status?.state === 'FAILED' ? status : undefined;
        },
        15_000,
        `dead letter ${jobId}`,
      );
      expect(dead.attempts, jobId).toBe(1);
      const reason = dead.errors[0]?.deadLetterReason;
      expect(reason, jobId).toBeTypeOf('string');
      // The reason is short and does not echo the hostile payload back.
      expect(dead.errors[0]?.message.length, jobId).toBeLessThanOrEqual(501);
      expect(dead.errors[0]?.message, jobId).not.toContain('xxxxxxxxxx');
    }
    await eventually(async () => handled.includes('o-ok'));
    expect(handled).toEqual(['o-ok']);
    process.off('unhandledRejection', onRejection);
    expect(rejections).toEqual([]);
  });

  it('a hostile job name or trace id does not reach the dead-letter log line', async () => {
    const errors: Array<Record<string, unknown>> = [];
    const messages: string[] = [];
    const record = (fields: Record<string, unknown>, message?: string) => {
      errors.push(fields);
      if (message?.includes('is a dead letter')) messages.push(message);
    };
    const logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: record,
      child: () => logger,
    };
    const name = engine.queueName('log');
    const queue = engine.openQueue(name);
    closers.push(() => queue.close());
    const consumer = createConsumer({
      queue: name,
      connection: engine.connection,
      catalog,
      handlers: [handleEvent(OrderCreated, () => {})],
      inbox: new MemoryInboxStore(),
      logger,
    });
    closers.push(() => consumer.close());
    const forged = '\n{"level":"info","msg":"admin logged in"}';
    await queue.add(
      `order.created.v1${forged}`,
      { traceId: `t${forged}`, junk: true },
      {
        jobId: 'forged-1',
      },
    );
    await queue.add('order.created.v1', { traceId: 'a'.repeat(100_000) }, { jobId: 'forged-2' });
    // The job id is the producer's too: it reached the dead-letter message as it was.
    await queue.add('order.created.v1', { junk: true }, { jobId: `forged-3${forged}` });
    await eventually(async () => messages.length >= 3);
    for (const fields of errors) {
      expect(JSON.stringify(fields)).not.toContain('admin logged in');
      expect(JSON.stringify(fields).length).toBeLessThan(5_000);
    }
    for (const message of messages) expect(message).not.toContain('admin logged in');
  });

  it('a valid event in a job whose id is too long to log is handled once, not failed unhandled', async () => {
    const name = engine.queueName('long-id');
    const queue = engine.openQueue(name);
    closers.push(() => queue.close());
    const handled: string[] = [];
    const consumer = createConsumer({
      queue: name,
      connection: engine.connection,
      catalog,
      handlers: [handleEvent(OrderCreated, (event) => void handled.push(event.payload.orderId))],
      inbox: new MemoryInboxStore(),
    });
    closers.push(() => consumer.close());
    // Another producer's job id: the processor refuses a jobId over 1,000 characters, so every
    // attempt rejected before the handler and the job failed after 3, its event never handled.
    const jobId = `job-${'j'.repeat(2_000)}`;
    await queue.add('order.created.v1', OrderCreated.create({ orderId: 'o-long' }), {
      jobId,
      attempts: 3,
    });
    await eventually(async () => (await queue.getJobState(jobId)) === 'completed', 10_000);
    expect(handled).toEqual(['o-long']);
  });

  it('run() after close() or twice is harmless: no unhandled rejection, no restart', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    const consumer = createConsumer({
      queue: engine.queueName('run'),
      connection: engine.connection,
      catalog,
      handlers: [handleEvent(OrderCreated, () => {})],
      inbox: new MemoryInboxStore(),
      autorun: false,
    });
    consumer.run();
    consumer.run();
    await consumer.waitUntilReady();
    await consumer.close();
    expect(() => consumer.run()).toThrow(/closed/);
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.off('unhandledRejection', onRejection);
    expect(rejections).toEqual([]);
  });

  it('close() twice, during a running job: the job finishes, then status/redrive refuse', async () => {
    const name = engine.queueName('close');
    const publisher = createBullmqPublisher({ queue: name, connection: engine.connection });
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = 0;
    const consumer = createConsumer({
      queue: name,
      connection: engine.connection,
      catalog,
      handlers: [
        handleEvent(OrderCreated, async () => {
          started();
          await gate;
          finished += 1;
        }),
      ],
      inbox: new MemoryInboxStore(),
    });
    const event = OrderCreated.create({ orderId: 'o-close' });
    await publisher.publish([event]);
    await running;
    const firstClose = consumer.close();
    const secondClose = consumer.close();
    setTimeout(release, 100);
    await Promise.all([firstClose, secondClose]);
    expect(finished).toBe(1);
    await consumer.close();
    // A closed consumer opens no new connection behind the caller's back.
    await expect(consumer.status(event.id)).rejects.toThrow(/closed/);
    expect(await codeOf(() => consumer.redrive())).toBe('UPSTREAM_ERROR');
    await publisher.close();
    await publisher.close();
    const queue = engine.openQueue(name);
    closers.push(() => queue.close());
    expect(await queue.getJobState(event.id)).toBe('completed');
  });

  it('a process ends by itself after closing its publisher and consumer', async () => {
    const outdir = fileURLToPath(new URL('../.tmp/', import.meta.url));
    mkdirSync(outdir, { recursive: true });
    const outfile = `${outdir}bullmq-close-process-${process.pid}.mjs`;
    await build({
      entryPoints: [fileURLToPath(new URL('./fixtures/bullmq-close-process.ts', import.meta.url))],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      tsconfig: fileURLToPath(new URL('../../../tsconfig.json', import.meta.url)),
      logLevel: 'error',
      external: ['bullmq', 'ioredis', 'pg', 'kysely', 'zod'],
    });
    const name = engine.queueName('exit');
    const port = (engine.connection as { port: number }).port;
    const child = spawn(process.execPath, [outfile], {
      cwd: fileURLToPath(new URL('../', import.meta.url)),
      env: { ...process.env, QUEUE: name, REDIS_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exit = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running 10 s after close');
      }, 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code ?? -1);
      });
    });
    // The bundle has served its one process; left in .tmp, one piled up per run.
    await rm(outfile, { force: true });
    expect(output).toContain('closed');
    expect(exit, output).toBe(0);
  }, 30_000);
});
