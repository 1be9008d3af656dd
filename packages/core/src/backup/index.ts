export type { BackupFiles, BackupSource, RestoreCheckResult } from './backup-ports.js';
export type {
  BackupRun,
  BackupRunPatch,
  BackupRunStatus,
  BackupRunStore,
  ListBackupRunsOptions,
  NewBackupRun,
  OffsiteStatus,
} from './backup-run.js';
export {
  type BackupAlert,
  type BackupDownload,
  type BackupEvents,
  type BackupProgress,
  type BackupRunner,
  type BackupRunnerConfig,
  type BackupVerificationReport,
  backupFileName,
  type CopyCheck,
  createBackupRunner,
  type RunBackupOptions,
  type VerifyBackupsOptions,
} from './backup-runner.js';
export { MemoryBackupFiles } from './memory-backup-files.js';
export { MemoryBackupRunStore } from './memory-backup-run-store.js';
export {
  type BackupSchedule,
  type BackupScheduleConfig,
  scheduleBackups,
} from './schedule-backups.js';
export { digestStream } from './sha256-stream.js';
