/**
 * Verification of kept backups: every local file re-hashed against its recorded SHA-256, every
 * off-site copy checked by reading it back, and, when asked, the newest backup restored into a
 * scratch database with the sanity check run. Each problem is an alert and a line of the report.
 */
import type { Clock } from '../clock/clock.js';
import { type BackupEventHub, describeError as describe } from './backup-events.js';
import type { BackupFiles, BackupSource, RestoreCheckResult } from './backup-ports.js';
import type { BackupRunStore } from './backup-run.js';
import type {
  BackupAlert,
  BackupVerificationReport,
  CopyCheck,
  VerifyBackupsOptions,
} from './backup-runner-config.js';
import type { OffsiteCopies } from './offsite-copies.js';
import { runFile } from './run-file.js';
import { digestStream } from './sha256-stream.js';

/** @internal */
export async function verifyBackups(
  context: {
    readonly source: BackupSource;
    readonly files: BackupFiles;
    readonly runs: BackupRunStore;
    readonly keep: number;
    readonly clock: Clock;
    readonly events: BackupEventHub;
    readonly offsiteCopies: OffsiteCopies;
  },
  options: VerifyBackupsOptions = {},
): Promise<BackupVerificationReport> {
  const { source, files, runs, keep, clock } = context;
  const alert = context.events.alert;
  const kept = await runs.list({ status: 'succeeded', limit: options.limit ?? keep });
  const alerts: BackupAlert[] = [];
  const checked: Array<BackupVerificationReport['runs'][number]> = [];
  for (const run of kept) {
    if (options.signal?.aborted) throw options.signal.reason;
    let local: CopyCheck;
    const body = await files.read(runFile(files, run));
    if (!body) local = 'missing';
    else {
      const digest = await digestStream(body, options.signal);
      local = digest.checksum === run.checksum && digest.bytes === run.bytes ? 'ok' : 'mismatch';
    }
    const remote =
      run.offsite === 'copied' ? await context.offsiteCopies.check(run, true) : 'skipped';
    checked.push({ runId: run.id, local, offsite: remote });
    if (local === 'ok') await runs.update(run.id, { verifiedAt: new Date(clock.now()) });
    else {
      alerts.push(
        alert({
          kind: local === 'missing' ? 'local-missing' : 'local-checksum-mismatch',
          runId: run.id,
          message: `Local copy of backup ${run.id} is ${local === 'missing' ? 'missing' : 'corrupt (checksum mismatch)'}.`,
        }),
      );
    }
    if (remote === 'missing' || remote === 'mismatch' || remote === 'unavailable') {
      alerts.push(
        alert({
          kind:
            remote === 'missing'
              ? 'offsite-missing'
              : remote === 'mismatch'
                ? 'offsite-checksum-mismatch'
                : 'offsite-unavailable',
          runId: run.id,
          message: `Off-site copy of backup ${run.id}: ${remote}.`,
        }),
      );
    }
  }
  if (kept.length === 0) {
    // Nothing checked is not "passed": a verify pointed at the wrong database, or at one whose
    // backups stopped being recorded, must page someone.
    alerts.push(
      alert({
        kind: 'no-backups',
        message:
          'No succeeded backup to verify: none is recorded (check the database, and that backups run).',
      }),
    );
  }
  let restore: BackupVerificationReport['restore'];
  if (options.restore) {
    const newest = kept[0];
    if (newest && source.checkRestore) {
      const body = await files.read(runFile(files, newest));
      let result: RestoreCheckResult;
      if (!body) result = { ok: false, detail: 'local file missing' };
      else {
        try {
          result = await source.checkRestore(body, {
            signal: options.signal ?? new AbortController().signal,
          });
        } catch (error) {
          result = { ok: false, detail: describe(error) };
        }
      }
      restore = { runId: newest.id, ...result };
      if (!result.ok) {
        alerts.push(
          alert({
            kind: 'restore-failed',
            runId: newest.id,
            message: `Restoring backup ${newest.id} failed: ${result.detail}`,
          }),
        );
      }
    }
  }
  return { ok: alerts.length === 0, runs: checked, ...(restore && { restore }), alerts };
}
