/**
 * Which file of `files` holds a run's dump. A run records where its file was written
 * (`location`: what `files.locate()` answered then, an absolute path for a directory), because
 * the directory a runner is given may be relative (the CLI's default `./backups`). A later
 * process started in another working directory (a cron job, `ballast backup list` from a shell)
 * resolves it elsewhere; with the bare name it would verify, copy and prune files that are not
 * there, and the real ones would stay on disk for ever.
 */
import type { BackupFiles } from './backup-ports.js';
import type { BackupRun } from './backup-run.js';

/** The name or location to give `files` for `run`'s dump. */
export function runFile(files: BackupFiles, run: Pick<BackupRun, 'path' | 'location'>): string {
  const { path, location } = run;
  if (location === undefined || location === files.locate(path)) return path;
  // A location whose file name is not exactly the run's is not one the runner recorded (an
  // edited row): the name, in today's directory, is all that is trusted. `/x/old-<name>` ends
  // with the name too, so the character before it must be a separator, not part of a name.
  const start = location.length - path.length;
  return start > 0 && location.endsWith(path) && !nameCharacter.test(location.charAt(start - 1))
    ? location
    : path;
}

/** Characters a backup file name is made of (`backupFileName()`'s, and every port's). */
const nameCharacter = /[A-Za-z0-9._-]/;
