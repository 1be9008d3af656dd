/**
 * One replay at a time per queue and tab, and no request for a replay lost: a request made
 * while a replay runs is served by one more pass after it (the loop's last check and the reset
 * run in one synchronous step, so a request made as the replay ends is not dropped either), and
 * a request to ignore backoff is kept for that pass. Shared by the write and upload queues (and
 * the write queue's recount of its counts).
 */

/**
 * Wraps `pass` (one replay, `force` to ignore backoff) into `flush(force?)`, which resolves
 * when the replay it joined or started has ended. A failing pass (storage refused: quota, a
 * private window) leaves everything stored; the next trigger tries again.
 */
export function createSerialFlush(
  pass: (force: boolean) => Promise<void>,
  isClosed: () => boolean,
): (force?: boolean) => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  let forceNext = false;
  return (force = false) => {
    if (isClosed()) return Promise.resolve();
    if (force) forceNext = true;
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const forced = forceNext;
          forceNext = false;
          await pass(forced);
        } while (again && !isClosed());
      } catch {
        // Storage refused: the items stay where they are and the next trigger tries again.
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
