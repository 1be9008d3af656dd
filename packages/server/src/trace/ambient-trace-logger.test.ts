import { createTraceContext, type Logger, withTraceLogger } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { ambientTraceLogger } from './ambient-trace-logger.js';
import { runWithTrace } from './async-trace-storage.js';

function recorder() {
  const lines: Array<[string, Record<string, unknown>, string | undefined]> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message?: string) =>
    lines.push([level, fields, message]);
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
  return { logger, lines };
}

describe('ambientTraceLogger', () => {
  it('adds the trace current at write time, and nothing outside a trace', async () => {
    const { logger, lines } = recorder();
    const log = ambientTraceLogger(logger).child?.({ module: 'orders' });
    const trace = createTraceContext();
    await runWithTrace({ trace, logger: withTraceLogger(logger, trace) }, async () => {
      await Promise.resolve();
      log?.info({ id: 1 }, 'inside');
    });
    log?.warn({ id: 2 }, 'outside');
    expect(lines).toEqual([
      ['info', { traceId: trace.traceId, spanId: trace.spanId, module: 'orders', id: 1 }, 'inside'],
      ['warn', { module: 'orders', id: 2 }, 'outside'],
    ]);
  });
});
