/**
 * The lifecycle every process a test spawns shares: it is killed when the test file ends (even
 * after a failed test), and it can be killed as a crash would (SIGKILL) or stopped gracefully
 * (SIGTERM, then SIGKILL after a grace period), each resolving once the process is gone.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';

const running = new Set<ChildProcess>();
let cleanupRegistered = false;

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Kills `child` with SIGKILL when the test file ends, unless it has exited by then. */
export function killAtFileEnd(child: ChildProcess): void {
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    afterAll(async () => {
      await Promise.all([...running].map((running) => killNow(running)));
    });
  }
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
