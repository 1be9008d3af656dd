/**
 * A logger for code that has no trace argument: a module-level logger in a repository or a
 * job. Each line gets the ids of the trace that is current when it is written, so one logger
 * instance serves every request and still says which request each line belongs to.
 */

import { type Logger, type LogMethod, traceLogFields } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';
import { currentTraceContext } from './async-trace-storage.js';

function bindAmbient(logger: Logger, bindings: Record<string, unknown>): Logger {
  const bind =
    (method: LogMethod): LogMethod =>
    (fields, message) => {
      const trace = currentTraceContext();
      const traceFields = trace ? traceLogFields(trace) : {};
      // Trace first, then bindings, then the call's own fields: the most specific wins.
      method.call(logger, { ...traceFields, ...bindings, ...fields }, message);
    };
  return {
    debug: bind(logger.debug),
    info: bind(logger.info),
    warn: bind(logger.warn),
    error: bind(logger.error),
    child: (more) =>
      typeof logger.child === 'function'
        ? bindAmbient(logger.child(more), bindings)
        : bindAmbient(logger, { ...bindings, ...more }),
  };
}

/**
 * Wraps `logger` so every line carries the ambient trace's `traceId` and `spanId` (see
 * {@link currentTraceContext}); outside a traced request, or on a runtime without
 * `AsyncLocalStorage`, lines pass through unchanged. Explicit fields win over the trace fields.
 *
 * @example
 * ```ts
 * const log = ambientTraceLogger(pino());
 * export async function chargeOrder(id: string) {
 *   log.info({ id }, 'charging'); // carries the traceId of the request that called it
 * }
 * ```
 */
export function ambientTraceLogger(logger: Logger): Logger {
  if (!isObject(logger)) throw invalidArgument('ambientTraceLogger()', 'logger', 'a Logger');
  return bindAmbient(logger, {});
}
