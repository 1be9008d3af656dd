/**
 * The admin download route of docs/backups.md, in Express and Fastify: the file streams under a
 * readable name with its length, and an unknown id is a 404, not a 500.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import {
  type BackupRunner,
  type BackupSource,
  createBackupRunner,
  isBallastError,
  MemoryBackupFiles,
  MemoryBackupRunStore,
} from '@ballast/core';
import express from 'express';
import Fastify from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';

const payload = new TextEncoder().encode('PGDMP fake custom-format dump '.repeat(1000));
const source: BackupSource = {
  extension: '.dump',
  async dump() {
    return new Blob([payload]).stream();
  },
};

let runner: BackupRunner;
let id: string;

beforeAll(async () => {
  runner = createBackupRunner({
    source,
    files: new MemoryBackupFiles(),
    runs: new MemoryBackupRunStore(),
  });
  id = (await runner.run()).id;
});

const sha256 = (bytes: ArrayBuffer) =>
  createHash('sha256').update(new Uint8Array(bytes)).digest('hex');

describe('backup download routes', () => {
  it('Express streams the backup as an attachment named by date, 404 for an unknown id', async () => {
    const app = express();
    app.get('/backups/:id/download', async (req, res, next) => {
      try {
        const backup = await runner.open(req.params.id);
        res.attachment(backup.fileName);
        res.set('Content-Length', String(backup.bytes));
        Readable.fromWeb(backup.body as never).pipe(res);
      } catch (error) {
        next(error);
      }
    });
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        const status = isBallastError(error) ? error.status : 500;
        res.status(status).json({ code: isBallastError(error) ? error.code : 'INTERNAL' });
      },
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const response = await fetch(`${base}/backups/${id}/download`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toMatch(
        /^attachment; filename="?backup-\d{4}-\d{2}-\d{2}\.dump"?$/,
      );
      expect(sha256(await response.arrayBuffer())).toBe((await runner.get(id))?.checksum);
      const missing = await fetch(`${base}/backups/nope/download`);
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({ code: 'NOT_FOUND' });
    } finally {
      server.close();
    }
  });

  it('Fastify sends the same file and the same 404', async () => {
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      const status = isBallastError(error) ? error.status : 500;
      return reply.status(status).send({ code: isBallastError(error) ? error.code : 'INTERNAL' });
    });
    app.get<{ Params: { id: string } }>('/backups/:id/download', async (request, reply) => {
      const backup = await runner.open(request.params.id);
      return reply
        .header('content-disposition', `attachment; filename="${backup.fileName}"`)
        .header('content-length', backup.bytes)
        .send(Readable.fromWeb(backup.body as never));
    });
    const response = await app.inject({ url: `/backups/${id}/download` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-disposition']).toMatch(
      /filename="backup-\d{4}-\d{2}-\d{2}\.dump"/,
    );
    expect(
      sha256(
        response.rawPayload.buffer.slice(
          response.rawPayload.byteOffset,
          response.rawPayload.byteOffset + response.rawPayload.byteLength,
        ) as ArrayBuffer,
      ),
    ).toBe((await runner.get(id))?.checksum);
    const missing = await app.inject({ url: '/backups/nope/download' });
    expect(missing.statusCode).toBe(404);
    await app.close();
  });
});
