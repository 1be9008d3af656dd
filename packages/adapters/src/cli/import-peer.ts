/**
 * Loading what a command needs from an optional peer of `@ballast/adapters` (the AWS SDK for
 * `--bucket`, `pg` for `reconcile`). A user who has not installed it gets a configuration error
 * (exit 3) that names the package to install, not an `INTERNAL` failure (exit 1) quoting Node's
 * module resolver.
 */
import { BallastError } from '@ballast/core';

/** Whether `error` is Node failing to find the package `peer` (ESM or CommonJS resolution). */
function isMissingPackage(error: unknown, peer: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = error instanceof Error ? error.message : '';
  return message.includes(`'${peer}'`) || message.includes(`'${peer}/`);
}

/**
 * Runs `load` (an `import()` of a module that needs `peer`); when `peer` is not installed,
 * throws `INVALID_OPTIONS` saying that `usedFor` needs it, with `details.field` the flag that
 * asked for it. Any other failure is thrown unchanged.
 */
export async function importPeer<T>(
  load: () => Promise<T>,
  peer: string,
  usedFor: string,
  field: string,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, peer)) throw error;
    throw new BallastError('INVALID_OPTIONS', {
      message: `${usedFor} needs the optional package ${peer}: npm i ${peer}`,
      details: { field, peer },
      cause: error,
    });
  }
}
