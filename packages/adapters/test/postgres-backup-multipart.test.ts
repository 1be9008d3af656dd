/**
 * A backup large enough to be copied off-site in parts (S3's 5 MiB minimum part, so a ~12 MiB
 * dump of incompressible rows goes up as three parts), against real Postgres and s3rver: the
 * copy verifies, and when the network is cut in the middle of the upload the run is recorded
 * good with `offsite: failed`, and the next run copies it and leaves no incomplete upload.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import type { BackupAlert } from '@ballast/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPostgresBackupRunner, type PostgresBackupRunner } from '../src/postgres/index.js';
import { S3ObjectStorage } from '../src/s3/index.js';
import { type CuttableProxy, startCuttableProxy } from './support/cuttable-proxy.js';
import { type S3TestServer, s3TestCredentials, startS3Server } from './support/s3-server.js';
import { databaseUrl, describeWith, runStatement } from './support/services.js';

const MiB = 1024 * 1024;

describeWith('postgres', 'Postgres backups copied off-site in parts', () => {
  const name = `ballast_bkmp_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);
  let dir: string;
  let s3: S3TestServer;
  let proxy: CuttableProxy;
  let offsite: S3ObjectStorage;
  let runner: PostgresBackupRunner;
  const alerts: BackupAlert[] = [];

  beforeAll(async () => {
    await runStatement(`CREATE DATABASE ${name}`);
    // 12,000 rows of 1 KiB random bytes: zlib cannot shrink them, so the dump is ~12 MiB.
    await runStatement(
      `CREATE TABLE blobs AS
       SELECT g AS id,
              (SELECT decode(string_agg(md5(random()::text || g || i), ''), 'hex')
               FROM generate_series(1, 64) i) AS payload
       FROM generate_series(1, 12000) g`,
      url,
    );
    dir = await mkdtemp(join(tmpdir(), 'ballast-backups-mp-'));
    s3 = await startS3Server();
    proxy = await startCuttableProxy(s3.endpoint);
    offsite = new S3ObjectStorage({
      bucket: s3.bucket,
      endpoint: proxy.endpoint,
      credentials: s3TestCredentials,
      timeoutMs: 3_000,
      multipartThresholdBytes: 5 * MiB,
      partSizeBytes: 5 * MiB,
    });
    runner = await createPostgresBackupRunner({
      databaseUrl: url,
      dir,
      keep: 3,
      offsite,
      on: { alert: (alert) => alerts.push(alert) },
    });
  }, 60_000);

  afterAll(async () => {
    await runner?.close();
    offsite?.close();
    await proxy?.close();
    await s3?.close();
    await runStatement(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  async function incompleteUploads(): Promise<string[]> {
    const listed = await s3.client.send(
      new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: 'backups/' }),
    );
    return (listed.Uploads ?? []).map((upload) => upload.Key ?? '');
  }

  it('copies a dump over the threshold in parts, and the copy verifies', async () => {
    const run = await runner.run();
    expect(run.bytes).toBeGreaterThan(10 * MiB);
    expect(run).toMatchObject({ status: 'succeeded', offsite: 'copied' });
    const report = await runner.verify();
    expect(report.runs[0]).toEqual({ runId: run.id, local: 'ok', offsite: 'ok' });
    expect(await incompleteUploads()).toEqual([]);
  }, 120_000);

  it('a cut in the middle of the upload: offsite failed, then the next run copies it and no parts are left', async () => {
    alerts.length = 0;
    const cut = proxy.cutAfterBytes(7 * MiB);
    const during = await runner.run();
    await cut;
    expect(during).toMatchObject({ status: 'succeeded', offsite: 'failed' });
    expect(alerts.map((alert) => alert.kind)).toEqual(['offsite-copy-failed']);
    // Neither the upload nor its abort got through: the parts are still on the server.
    expect(await incompleteUploads()).toEqual([`backups/${during.path}`]);

    proxy.up = true;
    const after = await runner.run();
    expect(after.offsite).toBe('copied');
    expect(await runner.get(during.id)).toMatchObject({ offsite: 'copied' });
    expect(await incompleteUploads()).toEqual([]);
    const report = await runner.verify();
    expect(report.ok).toBe(true);
    expect(report.runs.map((r) => r.offsite)).toEqual(['ok', 'ok', 'ok']);
  }, 180_000);
});
