/**
 * Whether a thrown value says a dependency could not be reached: the database, Redis or another
 * service refused or dropped the connection, is shutting down, or has no connection left. That
 * is an outage a retry may outlive (503), not a bug in the route (500), and load balancers and
 * Ballast's client treat the two differently. Recognised by shape, as the rest of
 * classify-error.ts, so neither pg nor ioredis is imported.
 */
import { connectionFailureCodes } from '@ballast/core/adapter-kit';

/** Socket and DNS failures (Node's `net`/`dns`, undici). */
const socketCodes = new Set(connectionFailureCodes);

/**
 * Postgres SQLSTATEs of a server that cannot serve now: class 08 (connection exception),
 * admin/crash shutdown and "cannot connect now" (57P01–57P03), too many connections (53300).
 */
const unavailableSqlStates = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/**
 * Drivers that fail without a code: node-postgres when the socket ends or the pool cannot
 * connect in time, ioredis when the connection is gone or its retries ran out.
 */
const unavailableMessages =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Connection is closed\.|Reached the max retries per request limit.*|Stream isn't writeable and enableOfflineQueue options is false)$/s;

/** True when `error`, or the error it wraps (`cause`, one level), is a dependency outage. */
export function isUnreachableDependency(error: unknown): boolean {
  return isOutage(error) || isOutage((error as { cause?: unknown } | null)?.cause);
}

function isOutage(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (socketCodes.has(code) || unavailableSqlStates.test(code)))
    return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  return typeof message === 'string' && message.length < 200 && unavailableMessages.test(message);
}
