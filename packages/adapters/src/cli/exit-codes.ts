/**
 * What the `ballast` command's exit status means, so a cron job or CI step can branch on it
 * without parsing output. Stable: scripts depend on these numbers.
 */
export const exitCodes = {
  /** Everything asked for was done and checked. */
  ok: 0,
  /** The operation failed: a backup failed, verification found damage, repairs failed. */
  failed: 1,
  /** Wrong flags or arguments (commander's usage errors). */
  usage: 2,
  /** Missing or invalid configuration, or a service (database, bucket) that could not be reached. */
  config: 3,
  /** Another backup is running; try later. */
  busy: 4,
  /**
   * Done, with a warning: the local backup is good but its off-site copy failed, or something
   * after it needs a person (retention could not delete an old backup, an earlier copy's retry
   * failed).
   */
  degraded: 5,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];
