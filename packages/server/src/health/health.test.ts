import { ManualClock, MemoryObjectStorage } from '@ballast/core';
import { type HealthReport, healthStatus, liveReport } from '@ballast/server';
import { describe, expect, it } from 'vitest';
import { checkHealth } from './health-check.js';
import { health, live } from './health-handler.js';
import { storageHealthCheck } from './storage-health-check.js';

describe('health', () => {
  it('reports each check with status and latency, overall up, and a timestamp', async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'));
    const report = await checkHealth({
      clock,
      checks: { db: async () => {}, storage: storageHealthCheck(new MemoryObjectStorage()) },
    });
    expect(report).toEqual({
      status: 'up',
      timestamp: '2026-03-01T10:00:00.000Z',
      checks: {
        db: { status: 'up', required: true, latencyMs: 0 },
        storage: { status: 'up', required: true, latencyMs: 0 },
      },
    });
  });

  it('reports a hung check down at its timeout, and aborts its signal', async () => {
    const clock = new ManualClock(0);
    let aborted = false;
    const pending = checkHealth({
      clock,
      checks: {
        db: {
          timeoutMs: 500,
          check: (signal) =>
            new Promise(() => {
              signal.addEventListener('abort', () => {
                aborted = true;
              });
            }),
        },
      },
    });
    await clock.advance(500);
    const report = await pending;
    expect(report.status).toBe('down');
    expect(report.checks.db).toEqual({
      status: 'down',
      required: true,
      latencyMs: 500,
      error: 'TIMEOUT',
    });
    expect(aborted).toBe(true);
  });

  it('answers 503 when a required check fails and 200 degraded when only an optional one does, never showing the error', async () => {
    const failing = () =>
      Promise.reject(new Error('password authentication failed for user "admin"'));
    const down = await health({ checks: { db: failing } })();
    expect(down.status).toBe(503);
    expect(down.headers.get('cache-control')).toBe('no-store');
    const text = await down.text();
    expect(text).not.toContain('password');
    expect(JSON.parse(text).checks.db).toMatchObject({ status: 'down', error: 'UNAVAILABLE' });

    const degraded = await health({
      checks: { db: async () => {}, redis: { check: failing, required: false } },
    })();
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ status: 'degraded' });
  });

  it('requests during a run share its report: a flood probes a hung dependency once, then a new run starts', async () => {
    const clock = new ManualClock(0);
    let probes = 0;
    const handler = health({
      clock,
      timeoutMs: 1_000,
      checks: {
        db: () => {
          probes++;
          return new Promise(() => {}); // a database that accepts and never answers
        },
      },
    });
    const flood = Array.from({ length: 100 }, () => handler());
    await clock.advance(1_000);
    const answers = await Promise.all(flood);
    expect(probes).toBe(1);
    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(503));
    const next = handler();
    await clock.advance(1_000);
    expect((await next).status).toBe(503);
    expect(probes).toBe(2);
  });

  it('live() answers without touching any dependency', async () => {
    const response = await live()();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'up', timestamp: expect.any(String) });
  });

  it('rejects bad options with INVALID_OPTIONS', () => {
    expect(() => health({ checks: { db: 'select 1' as never } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => health({ checks: {}, timeoutMs: 0 })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'timeoutMs' }) }),
    );
  });
});

describe('healthStatus', () => {
  const report = (status: string) => ({
    status,
    timestamp: '2026-03-01T10:00:00.000Z',
    checks: {},
  });

  it('is 503 for a down report and 200 for an up or degraded one', () => {
    expect(healthStatus(report('down') as HealthReport)).toBe(503);
    expect(healthStatus(report('up') as HealthReport)).toBe(200);
    expect(healthStatus(report('degraded') as HealthReport)).toBe(200);
  });

  it('is the status health() answers with for the report checkHealth() makes', async () => {
    const failing = {
      checks: {
        db: async () => {
          throw new Error('connection refused');
        },
        cache: { check: async () => {}, required: false },
      },
    };
    const checked = await checkHealth(failing);
    expect(checked.status).toBe('down');
    expect(healthStatus(checked)).toBe(503);
    expect((await health(failing)()).status).toBe(healthStatus(checked));
  });

  it('refuses anything but a HealthReport with INVALID_OPTIONS naming itself', () => {
    for (const value of [undefined, null, 'down', {}, report('ok'), report('DOWN')]) {
      expect(() => healthStatus(value as never), JSON.stringify(value)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('healthStatus()'),
        }),
      );
    }
  });
});

describe('liveReport', () => {
  it("is { status: 'up', timestamp } for the given instant, now by default", () => {
    expect(liveReport(Date.parse('2026-03-01T10:00:00Z'))).toEqual({
      status: 'up',
      timestamp: '2026-03-01T10:00:00.000Z',
    });
    const before = Date.now();
    const { timestamp } = liveReport();
    expect(Date.parse(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(timestamp)).toBeLessThanOrEqual(Date.now());
  });

  it('is the body live() answers', async () => {
    const body = (await (await live()()).json()) as ReturnType<typeof liveReport>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(liveReport()).sort());
    expect(body.status).toBe(liveReport().status);
  });

  it('refuses a time that is no instant with INVALID_OPTIONS, never a RangeError', () => {
    for (const now of [Number.NaN, Number.POSITIVE_INFINITY, 1e17, -1e17, '0']) {
      expect(() => liveReport(now as number), String(now)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('liveReport()'),
        }),
      );
    }
    expect(liveReport(8.64e15).timestamp).toBe('+275760-09-13T00:00:00.000Z');
  });
});
