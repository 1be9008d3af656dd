import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import { failOnCall, failRandomly, injectFaults } from './inject-faults.js';

describe('injectFaults()', () => {
  it('counts calls per method and in total, without changing results', async () => {
    const storage = injectFaults(new MemoryObjectStorage());
    await storage.put('a', 'x');
    await storage.head('a');
    await storage.head('b');
    expect(storage.faults.calls('head')).toBe(2);
    expect(storage.faults.calls()).toBe(3);
    expect(storage.keys()).toEqual(['a']); // sync methods stay sync
    storage.faults.reset();
    expect(storage.faults.calls()).toBe(0);
  });

  it("fails 'before' without running the call and 'after' once it took effect", async () => {
    const storage = injectFaults(new MemoryObjectStorage(), {
      failOn: (call) => (call.key === 'before' ? 'before' : call.key === 'after' ? 'after' : false),
    });
    const before = await storage.put('before', 'x').catch((e: unknown) => e);
    expect(isBallastError(before, 'UPSTREAM_ERROR')).toBe(true);
    expect((before as { details: unknown }).details).toEqual({
      injectedFault: true,
      method: 'put',
      call: 1,
      phase: 'before',
    });
    await expect(storage.put('after', 'x')).rejects.toThrow('Injected fault: put call #2 (after)');
    expect(storage.keys()).toEqual(['after']);
    expect(storage.faults.injected.map((f) => [f.key, f.phase])).toEqual([
      ['before', 'before'],
      ['after', 'after'],
    ]);
  });

  it('uses a custom error and can change plans mid-test', async () => {
    const custom = new Error('ECONNRESET');
    const storage = injectFaults(new MemoryObjectStorage(), { error: () => custom });
    await storage.put('a', 'x');
    storage.faults.setFailOn(failOnCall('delete', 1));
    await expect(storage.delete('a')).rejects.toBe(custom);
    await storage.delete('a');
    expect(storage.keys()).toEqual([]);
  });

  it('adds latency on the given clock', async () => {
    const clock = new ManualClock();
    const storage = injectFaults(new MemoryObjectStorage({ clock }), { latency: () => 100, clock });
    let done = false;
    const put = storage.put('a', 'x').then(() => {
      done = true;
    });
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    await put;
    expect(done).toBe(true);
  });

  it('fails randomly at the given rate, reproducibly for a seed, only on the chosen methods', () => {
    const sample = (seed: number) => {
      const plan = failRandomly({ rate: 0.1, seed, methods: ['put'], afterRate: 0.5 });
      return Array.from({ length: 2000 }, (_, n) => plan({ method: 'put', args: [], n, total: n }));
    };
    const decisions = sample(7);
    const failures = decisions.filter((d) => d !== false).length;
    expect(failures).toBeGreaterThan(150);
    expect(failures).toBeLessThan(250);
    expect(decisions.filter((d) => d === 'after').length).toBeGreaterThan(50);
    expect(sample(7)).toEqual(decisions);
    expect(sample(8)).not.toEqual(decisions);
    expect(
      failRandomly({ rate: 1, methods: ['put'] })({ method: 'get', args: [], n: 1, total: 1 }),
    ).toBe(false);
    expect(() => failRandomly({ rate: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
