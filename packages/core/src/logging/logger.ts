/**
 * The logging port. Its shape is pino's (`logger.warn({ key }, 'message')`), so a pino logger
 * is passed in as it is, and so are most others through a two-line wrapper. Ballast never
 * logs to the console on its own.
 */

/** One log method: structured fields first, then the message, as pino takes them. */
export type LogMethod = (fields: Record<string, unknown>, message?: string) => void;

/** A pino-compatible logger. `child` is used when present to bind a trace id. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  child?(bindings: Record<string, unknown>): Logger;
}

const ignore: LogMethod = () => {};

/** A logger that discards everything. The default when none is given. */
export const noopLogger: Logger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
