/**
 * The lifecycle every process a test spawns shares: it is killed when the test file ends (even
 * after a failed test), and it can be killed as a crash would (SIGKILL) or stopped gracefully
 * (SIGTERM, then SIGKILL after a grace period), each resolving once the process is gone.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const running = new Set<ChildProcess>();

// Registered when a test file imports this module, that is while vitest collects the file:
// an `afterAll` registered later, from inside a test, is silently never run, and a failed
// multi-process test then left its children holding their Postgres connections until every
// later Postgres test of the run failed with "too many clients".
afterAll(async () => {
  await Promise.all([...running].map((child) => killNow(child)));
});
// A worker that exits without running its hooks (a timeout, a crash) still takes its children.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * `node --import` this in a spawned process so that it dies with the test worker even when the
 * worker is killed with SIGKILL and no hook of its own runs (see `exit-with-parent.ts`).
 */
export const exitWithParent = fileURLToPath(new URL('./exit-with-parent.ts', import.meta.url));

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Kills `child` with SIGKILL when the test file ends, unless it has exited by then. */
export function killAtFileEnd(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** SIGKILL: no cleanup, no goodbye, as a crash. */
export async function killNow(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await exited(child);
}

/** SIGTERM, then SIGKILL if `child` is still there after `graceMs`. */
export async function stopGracefully(child: ChildProcess, graceMs: number): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}
