/**
 * Log lines that carry the trace. Seed 003 asks for a trace id "at every boundary"; binding it
 * once to the logger a handler uses means no log call can forget it.
 */
import type { Logger, LogMethod } from '../logging/logger.js';
import { assertObjectArgument } from '../options/invalid-argument.js';
import type { TraceContext } from './trace-context.js';

/** The fields {@link withTraceLogger} adds to every line. */
export function traceLogFields(context: TraceContext): Record<string, string> {
  assertObjectArgument(context, 'traceLogFields()', 'context', 'a TraceContext');
  const fields: Record<string, string> = { traceId: context.traceId, spanId: context.spanId };
  if (context.requestId !== undefined && context.requestId !== context.traceId) {
    fields.requestId = context.requestId;
  }
  return fields;
}

/**
 * A logger that writes `bindings` on every line: `logger.child` when it has one, a wrapper of
 * the four methods otherwise. Shared by everything in core that binds fields to a log line.
 */
export function bindLogFields(logger: Logger, bindings: Record<string, unknown>): Logger {
  if (typeof logger.child === 'function') return logger.child(bindings);
  return bindFields(logger, bindings);
}

function bindFields(logger: Logger, bindings: Record<string, unknown>): Logger {
  const bind =
    (method: LogMethod): LogMethod =>
    (fields, message) =>
      // Bindings first, so a field the caller passes explicitly wins, as with pino's child.
      method.call(logger, { ...bindings, ...fields }, message);
  return {
    debug: bind(logger.debug),
    info: bind(logger.info),
    warn: bind(logger.warn),
    error: bind(logger.error),
    child: (more) => bindFields(logger, { ...bindings, ...more }),
  };
}

/**
 * A logger that writes `traceId` and `spanId` (and `requestId` when the caller sent one that
 * differs) on every line. Uses `logger.child` when the logger has one (pino, bunyan, winston
 * child loggers keep their own formatting that way); wraps the four methods otherwise.
 *
 * @example
 * ```ts
 * const log = withTraceLogger(pino(), trace);
 * log.info({ orderId }, 'order accepted'); // {"traceId":"4bf9…","spanId":"00f0…","orderId":…}
 * ```
 */
export function withTraceLogger(logger: Logger, context: TraceContext): Logger {
  assertObjectArgument(logger, 'withTraceLogger()', 'logger', 'a Logger');
  assertObjectArgument(context, 'withTraceLogger()', 'context', 'a TraceContext');
  const fields = traceLogFields(context);
  if (typeof logger.child === 'function') return logger.child(fields);
  return bindFields(logger, fields);
}
