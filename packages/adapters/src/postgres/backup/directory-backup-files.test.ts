import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directoryBackupFiles } from './directory-backup-files.js';

const bytes = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });

describe('directoryBackupFiles', () => {
  let work = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'ballast-backup-files-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('reads, sizes and deletes a file by the location another instance, rooted elsewhere, gave it', async () => {
    const writer = directoryBackupFiles(join(work, 'then'));
    const signal = new AbortController().signal;
    await writer.write('20261204T020000Z-3f9a1c.dump', bytes('dump'), { signal });
    const location = writer.locate('20261204T020000Z-3f9a1c.dump');
    expect(location).toBe(join(work, 'then', '20261204T020000Z-3f9a1c.dump'));

    const later = directoryBackupFiles(join(work, 'now'));
    expect(await later.size(location)).toBe(4);
    expect(await new Response(await later.read(location)).text()).toBe('dump');
    await later.delete(location);
    expect(await readdir(join(work, 'then'))).toEqual([]);
  });

  it('refuses a location whose file name is not one a backup can have', async () => {
    const files = directoryBackupFiles(join(work, 'now'));
    await expect(files.delete('/etc/.hidden')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(files.read('relative/dir.dump')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
