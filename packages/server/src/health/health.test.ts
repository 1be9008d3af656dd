import { ManualClock, MemoryObjectStorage } from '@ballast/core';
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
