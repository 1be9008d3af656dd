import { describe, expect, it } from 'vitest';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { toProblem } from '../errors/problem.js';
import type { Logger } from '../logging/logger.js';
import { saga } from './saga.js';
import { CompensationFailedError, sagaFailureKey, sagaFailureOf } from './saga-failure.js';

interface Line {
  level: string;
  fields: Record<string, unknown>;
  message?: string;
}

function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) =>
    lines.push({ level, fields, message });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

class BusinessError extends Error {
  readonly code = 'DB_DOWN';
}

describe('saga()', () => {
  it('runs steps in order, passes earlier outputs and returns every output by name', async () => {
    const order: string[] = [];
    const results = await saga({ name: 'upload', traceId: 'trace-1' })
      .step({
        name: 'object',
        run: (ctx) => {
          order.push(`${ctx.saga}/${ctx.step}/${ctx.traceId}`);
          return { key: 'k', size: 3 };
        },
      })
      .step({
        name: 'row',
        run: async ({ results }) => {
          order.push('row');
          return { id: 'r1', size: results.object.size };
        },
      })
      .run();
    expect(order).toEqual(['upload/object/trace-1', 'row']);
    expect(results).toEqual({ object: { key: 'k', size: 3 }, row: { id: 'r1', size: 3 } });
  });

  it('compensates completed steps in reverse and rethrows the original error unchanged', async () => {
    const undone: string[] = [];
    const original = new BusinessError('insert failed');
    const logger = recordingLogger();
    const run = saga({ name: 's', logger, traceId: 't' })
      .step({ name: 'a', run: () => 1, compensate: (_ctx, out) => void undone.push(`a:${out}`) })
      .step({ name: 'b', run: () => 2 })
      .step({ name: 'c', run: () => 3, compensate: (_ctx, out) => void undone.push(`c:${out}`) })
      .step({
        name: 'd',
        run: () => {
          throw original;
        },
        compensate: () => void undone.push('d'),
      })
      .run();
    const error = await run.catch((e: unknown) => e);
    expect(error).toBe(original);
    expect(error).toBeInstanceOf(BusinessError);
    expect(undone).toEqual(['c:3', 'a:1']);
    expect(sagaFailureOf(error)).toEqual({
      saga: 's',
      traceId: 't',
      failedStep: 'd',
      compensated: ['c', 'a'],
      compensationFailures: [],
    });
    // Attached out of sight: serialising the error does not show it.
    expect(Object.keys(error as object)).not.toContain(sagaFailureKey);
    expect(JSON.stringify(error)).not.toContain('compensated');
    expect(logger.lines.map((l) => [l.level, l.fields.step])).toEqual([
      ['warn', 'd'],
      ['info', 'c'],
      ['info', 'a'],
    ]);
  });

  it('logs a failed non-critical compensation, keeps undoing, attaches it, and rethrows the original', async () => {
    const logger = recordingLogger();
    const undone: string[] = [];
    const deleteFailed = new Error('storage down');
    const original = new BallastError('UPSTREAM_ERROR', { message: 'insert failed' });
    const error = await saga({ name: 'upload', logger, traceId: 'tr' })
      .step({ name: 'first', run: () => 'x', compensate: () => void undone.push('first') })
      .step({
        name: 'object',
        run: () => 'put',
        compensate: () => {
          throw deleteFailed;
        },
      })
      .step({
        name: 'row',
        run: () => {
          throw original;
        },
      })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBe(original);
    expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
    expect(undone).toEqual(['first']);
    expect(sagaFailureOf(error)?.compensationFailures).toEqual([
      { step: 'object', error: deleteFailed, critical: false },
    ]);
    expect(sagaFailureOf(error)?.compensated).toEqual(['first']);
    const failureLine = logger.lines.find((l) => l.level === 'error');
    expect(failureLine?.fields).toMatchObject({
      saga: 'upload',
      step: 'object',
      traceId: 'tr',
      critical: false,
      err: deleteFailed,
      cause: original,
    });
  });

  it('turns a failed critical compensation into COMPENSATION_FAILED carrying both errors', async () => {
    const restoreFailed = new Error('restore failed');
    const original = new BallastError('STORAGE_UNAVAILABLE');
    const error = await saga({ name: 'delete', traceId: 'trace-9' })
      .step({
        name: 'row',
        run: () => 'token',
        compensate: () => {
          throw restoreFailed;
        },
        critical: true,
      })
      .step({
        name: 'object',
        run: () => {
          throw original;
        },
      })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompensationFailedError);
    const failure = error as CompensationFailedError;
    expect(isBallastError(failure, 'COMPENSATION_FAILED')).toBe(true);
    expect(failure.status).toBe(500);
    expect(failure.cause).toBe(original);
    expect(failure.originalError).toBe(original);
    expect(failure.compensationFailures).toEqual([
      { step: 'row', error: restoreFailed, critical: true },
    ]);
    expect(failure.failedStep).toBe('object');
    expect(toProblem(failure)).toMatchObject({ code: 'COMPENSATION_FAILED', traceId: 'trace-9' });
    expect(JSON.stringify(toProblem(failure))).not.toContain('restore failed');
    expect(sagaFailureOf(failure)?.compensationFailures).toHaveLength(1);
  });

  it('throws the original error when only a non-critical compensation fails beside a critical one that succeeds', async () => {
    const original = new Error('boom');
    const error = await saga()
      .step({ name: 'a', run: () => 1, compensate: () => {}, critical: true })
      .step({
        name: 'b',
        run: () => 2,
        compensate: () => {
          throw new Error('b undo');
        },
      })
      .step({
        name: 'c',
        run: () => {
          throw original;
        },
      })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBe(original);
    expect(sagaFailureOf(error)?.compensated).toEqual(['a']);
  });

  it('passes a child logger bound to saga, trace id and step to each step', async () => {
    const bindings: Array<Record<string, unknown>> = [];
    const base = recordingLogger();
    const logger: Logger = {
      ...base,
      child(b) {
        bindings.push(b);
        return { ...base, child: logger.child };
      },
    };
    await saga({ name: 'n', logger, traceId: 'tid' })
      .step({ name: 'one', run: (ctx) => ctx.logger.info({ seen: true }) })
      .run();
    expect(bindings).toEqual([{ saga: 'n', traceId: 'tid' }, { step: 'one' }]);
    expect(base.lines).toEqual([{ level: 'info', fields: { seen: true }, message: undefined }]);
  });

  it('generates a trace id when none is given', async () => {
    const { one } = await saga()
      .step({ name: 'one', run: (ctx) => ctx.traceId })
      .run();
    expect(one).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('stops at an aborted signal with ABORTED, compensating what ran, without aborting compensations', async () => {
    const controller = new AbortController();
    const compensationSignals: Array<AbortSignal | undefined> = [];
    const error = await saga({ signal: controller.signal })
      .step({
        name: 'a',
        run: () => controller.abort('user left'),
        compensate: (ctx) => void compensationSignals.push(ctx.signal),
      })
      .step({ name: 'b', run: () => 'never' })
      .run()
      .catch((e: unknown) => e);
    expect(isBallastError(error, 'ABORTED')).toBe(true);
    expect((error as Error).cause).toBe('user left');
    expect(compensationSignals).toEqual([undefined]);
    expect(sagaFailureOf(error)?.failedStep).toBe('b');
  });

  it('propagates a thrown primitive as it is (nothing can be attached to it)', async () => {
    const error = await saga()
      .step({
        name: 'a',
        run: () => {
          throw 'plain string';
        },
      })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBe('plain string');
    expect(sagaFailureOf(error)).toBeUndefined();
  });

  it('merges the compensation failures of a nested saga into the outer one', async () => {
    const inner = saga({ name: 'inner' })
      .step({
        name: 'inner-a',
        run: () => 1,
        compensate: () => {
          throw new Error('inner undo');
        },
      })
      .step({
        name: 'inner-b',
        run: () => {
          throw new Error('inner failed');
        },
      });
    const error = await saga({ name: 'outer' })
      .step({
        name: 'outer-a',
        run: () => 1,
        compensate: () => {
          throw new Error('outer undo');
        },
      })
      .step({ name: 'outer-b', run: () => inner.run() })
      .run()
      .catch((e: unknown) => e);
    expect(sagaFailureOf(error)?.saga).toBe('outer');
    expect(sagaFailureOf(error)?.compensationFailures.map((f) => f.step)).toEqual([
      'inner-a',
      'outer-a',
    ]);
  });

  it('can run the same saga twice, independently', async () => {
    let runs = 0;
    const once = saga().step({ name: 'count', run: () => ++runs });
    expect(await once.run()).toEqual({ count: 1 });
    expect(await once.run()).toEqual({ count: 2 });
  });

  it('rejects bad options and steps with INVALID_OPTIONS naming the field', () => {
    expect(() => saga({ name: '' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'name' }),
      }),
    );
    const s = saga().step({ name: 'a', run: () => 1 });
    expect(() => s.step({ name: 'a', run: () => 2 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'name' }),
      }),
    );
    expect(() => saga().step({ name: 'x', run: 'no' as never })).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'run' }) }),
    );
  });
});
