import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import { injectFaults } from '../testing/inject-faults.js';
import type { BackupSource } from './backup-ports.js';
import type { BackupAlert } from './backup-runner.js';
import { backupFileName, createBackupRunner } from './backup-runner.js';
import { MemoryBackupFiles } from './memory-backup-files.js';
import { MemoryBackupRunStore } from './memory-backup-run-store.js';
import { digestStream } from './sha256-stream.js';

const encoder = new TextEncoder();

/** A source whose dumps are `dump #n` repeated, in several chunks; `failAfter` breaks it mid-way. */
function fakeSource(options: { failAfterChunks?: number; restoreOk?: boolean } = {}) {
  let dumps = 0;
  const source: BackupSource & { readonly dumps: number } = {
    extension: '.dump',
    get dumps() {
      return dumps;
    },
    async dump() {
      dumps++;
      const n = dumps;
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (options.failAfterChunks !== undefined && sent === options.failAfterChunks) {
            controller.error(new Error('pg_dump exited with code 1'));
            return;
          }
          if (sent === 4) return controller.close();
          sent++;
          controller.enqueue(encoder.encode(`dump #${n} chunk ${sent};`));
        },
      });
    },
    async checkRestore(body) {
      const { bytes } = await digestStream(body);
      return options.restoreOk === false
        ? { ok: false, detail: 'sanity query returned false' }
        : { ok: true, detail: `restored ${bytes} bytes` };
    },
  };
  return source;
}

function setup(options: { keep?: number; offsite?: boolean; source?: BackupSource } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 11, 4, 2, 0));
  const files = new MemoryBackupFiles();
  const runs = new MemoryBackupRunStore();
  const storage = injectFaults(new MemoryObjectStorage());
  const alerts: BackupAlert[] = [];
  const runner = createBackupRunner({
    source: options.source ?? fakeSource(),
    files,
    runs,
    keep: options.keep ?? 30,
    ...(options.offsite === false ? {} : { offsite: storage }),
    clock,
    on: { alert: (alert) => alerts.push(alert) },
  });
  return { clock, files, runs, storage, alerts, runner };
}

describe('createBackupRunner', () => {
  it('records a succeeded run with the size and SHA-256 of what was written', async () => {
    const { runner, files } = setup({ offsite: false });
    const run = await runner.run();
    expect(run.status).toBe('succeeded');
    expect(run.offsite).toBe('none');
    const body = await files.read(run.path);
    const digest = await digestStream(body!);
    expect(run.checksum).toBe(digest.checksum);
    expect(run.bytes).toBe(digest.bytes);
    expect(run.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records a dump that dies half-way as failed, deletes the partial file and alerts', async () => {
    const { runner, files, alerts, runs } = setup({ source: fakeSource({ failAfterChunks: 2 }) });
    await expect(runner.run()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    const [run] = await runs.list();
    expect(run?.status).toBe('failed');
    expect(run?.error).toContain('pg_dump exited with code 1');
    expect(files.names()).toEqual([]);
    expect(alerts.map((a) => a.kind)).toEqual(['backup-failed']);
  });

  it('never runs two backups at once', async () => {
    const { runner } = setup();
    const results = await Promise.allSettled([runner.run(), runner.run()]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: 'BACKUP_IN_PROGRESS', status: 409 });
  });

  it('marks a run left running by a dead process as failed once it has been silent for 5 minutes', async () => {
    const { runner, runs, clock } = setup();
    const startedAt = new Date(clock.now());
    await runs.start({
      id: 'dead',
      reason: 'scheduled',
      startedAt,
      path: 'dead.dump',
      offsite: 'pending',
    });
    await expect(runner.run()).rejects.toMatchObject({ code: 'BACKUP_IN_PROGRESS' });
    await clock.advance(5 * 60_000 - 1);
    await expect(runner.run()).rejects.toMatchObject({ code: 'BACKUP_IN_PROGRESS' });
    await clock.advance(2);
    await expect(runner.run()).resolves.toMatchObject({ status: 'succeeded' });
    expect(await runs.get('dead')).toMatchObject({ status: 'failed', finishedAt: startedAt });
  });

  it('cancels the dump when the files refuse it before reading a byte, so the dump process can exit', async () => {
    let cancelled: unknown;
    const source: BackupSource = {
      extension: '.dump',
      async dump() {
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(encoder.encode('PGDMP'));
          },
          cancel(reason) {
            cancelled = reason;
          },
        });
      },
    };
    const files = new MemoryBackupFiles();
    // A directory that cannot be created: the write fails before it takes a reader.
    files.write = async () => {
      throw new Error('EEXIST: file already exists, mkdir');
    };
    const runner = createBackupRunner({ source, files, runs: new MemoryBackupRunStore() });
    await expect(runner.run()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    expect(cancelled).toBeDefined();
  });

  it('deletes what a dead run left in the files when it takes over, so crashes do not fill the disk', async () => {
    const { runner, runs, files, clock } = setup({ offsite: false });
    await runs.start({
      id: 'dead',
      reason: 'scheduled',
      startedAt: new Date(clock.now()),
      path: 'dead.dump',
      offsite: 'none',
    });
    // What the port holds for it: for a directory, the half-written temporary file.
    await files.write('dead.dump', new Blob(['half a dump']).stream());
    await clock.advance(5 * 60_000 + 1);
    const run = await runner.run();
    expect(files.names()).toEqual([run.path]);
  });

  it('keeps a dump that runs for hours beating, so another process never takes it for a dead one', async () => {
    const { runner, runs, clock, files } = setup({ offsite: false });
    let finishDump = () => {};
    const slowSource: BackupSource = {
      extension: '.dump',
      async dump() {
        const gate = new Promise<void>((resolve) => {
          finishDump = resolve;
        });
        return new ReadableStream<Uint8Array>({
          async pull(controller) {
            await gate;
            controller.enqueue(encoder.encode('slow dump'));
            controller.close();
          },
        });
      },
    };
    const slow = createBackupRunner({ source: slowSource, files, runs, clock });
    const long = slow.run();
    await clock.advance(3 * 3_600_000);
    const [running] = await runs.list({ status: 'running' });
    expect(running?.heartbeatAt?.getTime()).toBeGreaterThan(clock.now() - 60_001);
    // Another replica's schedule, three hours in: the run is alive, so it is refused.
    await expect(runner.run()).rejects.toMatchObject({ code: 'BACKUP_IN_PROGRESS' });
    finishDump();
    await expect(long).resolves.toMatchObject({ status: 'succeeded' });
    // The heartbeat stopped with the run: no timer is left behind.
    const beatAtEnd = (await runs.get(running!.id))?.heartbeatAt;
    await clock.advance(10 * 60_000);
    expect((await runs.get(running!.id))?.heartbeatAt).toEqual(beatAtEnd);
  });

  it('keeps exactly N backups and deletes the off-site copies of the ones it prunes', async () => {
    const { runner, files, storage, clock } = setup({ keep: 3 });
    for (let i = 0; i < 5; i++) {
      await runner.run();
      await clock.advance(60_000);
    }
    const kept = await runner.list();
    expect(kept).toHaveLength(3);
    expect(files.names()).toEqual(kept.map((run) => run.path).sort());
    const remote = (await storage.list({ prefix: 'backups/' })).objects.map((o) => o.key);
    expect(remote).toEqual(kept.map((run) => `backups/${run.path}`).sort());
    expect(await runner.list({ includePruned: true })).toHaveLength(5);
  });

  it('records the local backup as good with offsite failed when the copy fails, and retries it next run', async () => {
    const { runner, storage, alerts } = setup();
    storage.faults.setFailOn((call) => call.method === 'put');
    const first = await runner.run();
    expect(first).toMatchObject({ status: 'succeeded', offsite: 'failed' });
    expect(alerts.map((a) => a.kind)).toEqual(['offsite-copy-failed']);
    storage.faults.setFailOn(undefined);
    const second = await runner.run();
    expect(second.offsite).toBe('copied');
    expect(await runner.get(first.id)).toMatchObject({
      offsite: 'copied',
      offsiteKey: `backups/${first.path}`,
    });
  });

  it('verification reports a corrupted local byte while the off-site copy still verifies', async () => {
    const { runner, files, alerts } = setup();
    const run = await runner.run();
    expect((await runner.verify()).ok).toBe(true);
    files.corrupt(run.path);
    const report = await runner.verify();
    expect(report.ok).toBe(false);
    expect(report.runs).toEqual([{ runId: run.id, local: 'mismatch', offsite: 'ok' }]);
    expect(alerts.map((a) => a.kind)).toEqual(['local-checksum-mismatch']);
  });

  it('verification with no backup to check fails with a no-backups alert, never passes', async () => {
    // A verify cron pointed at the wrong database, or at one whose backups stopped being
    // recorded, checks nothing: reporting that as "passed" would never page anyone.
    const { runner, alerts } = setup();
    const report = await runner.verify({ restore: true });
    expect(report).toMatchObject({ ok: false, runs: [] });
    expect(alerts.map((alert) => alert.kind)).toEqual(['no-backups']);
    await runner.run();
    expect((await runner.verify()).ok).toBe(true);
  });

  it('verification reports a missing or altered off-site copy', async () => {
    const { runner, storage } = setup();
    const run = await runner.run();
    await storage.put(run.offsiteKey!, 'tampered');
    expect((await runner.verify()).runs[0]?.offsite).toBe('mismatch');
    await storage.delete(run.offsiteKey!);
    expect((await runner.verify()).runs[0]?.offsite).toBe('missing');
  });

  it('restores the newest backup on request and alerts when the sanity check fails', async () => {
    const good = setup({ source: fakeSource() });
    await good.runner.run();
    const ok = await good.runner.verify({ restore: true });
    expect(ok.restore).toMatchObject({ ok: true });
    const bad = setup({ source: fakeSource({ restoreOk: false }) });
    const run = await bad.runner.run();
    const report = await bad.runner.verify({ restore: true });
    expect(report.ok).toBe(false);
    expect(report.restore).toMatchObject({ runId: run.id, ok: false });
    expect(bad.alerts.map((a) => a.kind)).toEqual(['restore-failed']);
  });

  it('opens a backup for download under a readable name, and refuses unknown ids with NOT_FOUND', async () => {
    const { runner } = setup();
    const run = await runner.run();
    const download = await runner.open(run.id);
    expect(download.fileName).toBe('backup-2026-12-04.dump');
    expect((await digestStream(download.body)).checksum).toBe(run.checksum);
    await expect(runner.open('nope')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
    const url = await runner.presignOffsite(run.id, { expiresInSeconds: 60 });
    expect(url.method).toBe('GET');
  });

  it('errors the body of a download whose file no longer matches its checksum, never ending it as whole', async () => {
    const { runner, files } = setup({ offsite: false });
    const run = await runner.run();
    files.corrupt(run.path);
    const download = await runner.open(run.id);
    await expect(digestStream(download.body)).rejects.toMatchObject({
      code: 'BACKUP_FAILED',
      details: { backupId: run.id },
    });
  });

  it('backupBefore runs the operation only after a good backup', async () => {
    const { runner } = setup({ source: fakeSource({ failAfterChunks: 1 }) });
    let ran = false;
    await expect(
      runner.backupBefore('before:migrate', async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
    expect(ran).toBe(false);
    const ok = setup();
    await expect(ok.runner.backupBefore('before:migrate', async () => 42)).resolves.toBe(42);
    expect((await ok.runner.list())[0]?.reason).toBe('before:migrate');
  });

  it('a throwing listener does not change the outcome; on() unsubscribes', async () => {
    const { runner } = setup();
    let calls = 0;
    const off = runner.on('succeeded', () => {
      calls++;
      throw new Error('listener bug');
    });
    await expect(runner.run()).resolves.toMatchObject({ status: 'succeeded' });
    off();
    await runner.run();
    expect(calls).toBe(1);
  });
});

describe('createBackupRunner options', () => {
  it('rejects a missing port, a bad keep or an unknown key with INVALID_OPTIONS naming it', () => {
    const ports = {
      source: fakeSource(),
      files: new MemoryBackupFiles(),
      runs: new MemoryBackupRunStore(),
    };
    expect(() => createBackupRunner(undefined as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => createBackupRunner({ ...ports, keep: 0 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('keep'),
      }),
    );
    expect(() => createBackupRunner({ ...ports, retention: 3 } as never)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('retention') }),
    );
    expect(() => createBackupRunner({ ...ports, files: {} } as never)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('files') }),
    );
  });

  it('rejects bad run options', async () => {
    const { runner } = setup();
    await expect(runner.run({ reason: '' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});

describe('backupFileName', () => {
  it('names the file after the UTC date of the run and keeps the extension', () => {
    expect(
      backupFileName({ startedAt: new Date('2026-01-31T23:59:00Z'), path: 'x-1.tar.gz' }),
    ).toBe('backup-2026-01-31.tar.gz');
  });
});
