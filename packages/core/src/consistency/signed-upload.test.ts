import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { reconcile } from '../reconcile/reconcile.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { failOnCall, injectFaults } from '../testing/inject-faults.js';
import { MemoryDocumentRecords } from './memory-document-records.js';
import { confirmUpload, issueSignedUpload } from './signed-upload.js';
import { createUploadTokens } from './upload-tokens.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const body = 'scanned passport';

async function sha256(text: string) {
  const bytes = new Uint8Array(
    await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)),
  );
  return {
    hex: [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(''),
    base64: btoa(String.fromCharCode(...bytes)),
  };
}

function setup() {
  const clock = new ManualClock(Date.UTC(2025, 5, 1));
  const memory = new MemoryObjectStorage({ clock });
  const storage = injectFaults(memory);
  const records = injectFaults(new MemoryDocumentRecords<{ caseId: string }>());
  const tokens = createUploadTokens({ secret, clock });
  const issue = (extra: { size?: number } = {}) =>
    issueSignedUpload({
      storage,
      records,
      tokens,
      clock,
      key: 'cases/c1/passport.pdf',
      record: { caseId: 'c1' },
      contentType: 'application/pdf',
      expiresInSeconds: 600,
      ...extra,
    });
  /** The client's direct upload with the presigned request. */
  const clientUploads = (url: string, headers: Record<string, string>, content = body) =>
    memory.handlePresigned(new Request(url, { method: 'PUT', headers, body: content }));
  const confirm = (
    token: string,
    extra: { expectedSize?: number; expectedChecksum?: string; storage?: ObjectStorage } = {},
  ) => confirmUpload({ token, tokens, storage, records, clock, ...extra });
  return { clock, memory, storage, records, tokens, issue, clientUploads, confirm };
}

describe('signed uploads', () => {
  it('issue → client PUT → confirm moves the row from pending to active', async () => {
    const { issue, clientUploads, confirm, records, clock } = setup();
    const issued = await issue({ size: 16 });
    expect(issued.row).toMatchObject({ status: 'pending', key: 'cases/c1/passport.pdf' });
    expect(issued.confirmBy).toBe(clock.now() + (600 + 300) * 1000);
    expect(records.get(issued.row.id)?.expiresAt).toBe(issued.confirmBy);
    expect(issued.upload).toMatchObject({
      method: 'PUT',
      headers: { 'content-type': 'application/pdf' },
    });
    expect(issued.upload.expiresAt).toBe(clock.now() + 600_000);

    const response = await clientUploads(issued.upload.url, { ...issued.upload.headers });
    expect(response.status).toBe(200);
    const { row, object } = await confirm(issued.token);
    expect(object).toMatchObject({ key: 'cases/c1/passport.pdf', size: 16 });
    expect(row).toMatchObject({ id: issued.row.id, status: 'active', object });
    expect(records.get(issued.row.id)?.status).toBe('active');
  });

  it('confirming twice is harmless', async () => {
    const { issue, clientUploads, confirm } = setup();
    const issued = await issue();
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    const first = await confirm(issued.token);
    const second = await confirm(issued.token);
    expect(second.row).toEqual(first.row);
  });

  it('confirm before the upload: OBJECT_NOT_FOUND and the row stays pending (the client may still upload)', async () => {
    const { issue, confirm, records, clientUploads } = setup();
    const issued = await issue();
    await expect(confirm(issued.token)).rejects.toMatchObject({
      code: 'OBJECT_NOT_FOUND',
      status: 404,
    });
    expect(records.get(issued.row.id)?.status).toBe('pending');
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    await expect(confirm(issued.token)).resolves.toMatchObject({ row: { status: 'active' } });
  });

  it('rejects an object of another size than declared or expected', async () => {
    const { issue, clientUploads, confirm, records } = setup();
    const declared = await issue({ size: 999 });
    await clientUploads(declared.upload.url, { ...declared.upload.headers });
    await expect(confirm(declared.token)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'size' },
    });
    await expect(confirm(declared.token, { expectedSize: 5 })).rejects.toMatchObject({
      details: { field: 'size' },
    });
    expect(records.get(declared.row.id)?.status).toBe('pending');
    await expect(confirm(declared.token, { expectedSize: 16 })).resolves.toBeDefined();
  });

  it('verifies a SHA-256 given in hex or base64, from the backend checksum or by reading the object', async () => {
    const { issue, clientUploads, confirm, memory } = setup();
    const digest = await sha256(body);
    const issued = await issue();
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    await expect(
      confirm(issued.token, { expectedChecksum: (await sha256('other')).hex }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'checksum' },
    });
    await expect(
      confirm(issued.token, { expectedChecksum: 'not-a-checksum' }),
    ).rejects.toMatchObject({
      details: { field: 'checksum' },
    });
    // A backend that reports no checksum: the object is read and hashed.
    const withoutChecksum = injectFaults(memory);
    const stripped: ObjectStorage = new Proxy(withoutChecksum, {
      get(target, property) {
        if (property === 'head') {
          return async (key: string) => {
            const info = await target.head(key);
            return info && { ...info, checksumSha256: undefined };
          };
        }
        return Reflect.get(target, property);
      },
    });
    await expect(
      confirm(issued.token, { expectedChecksum: digest.base64, storage: stripped }),
    ).resolves.toBeDefined();
    expect(withoutChecksum.faults.calls('get')).toBe(1);
    await expect(confirm(issued.token, { expectedChecksum: digest.hex })).resolves.toBeDefined();
  });

  it('rejects a late confirmation with SIGNATURE_EXPIRED, checked on the server clock', async () => {
    const { issue, clientUploads, confirm, clock } = setup();
    const issued = await issue();
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    await clock.advance(900_000);
    await expect(confirm(issued.token)).rejects.toMatchObject({
      code: 'SIGNATURE_EXPIRED',
      status: 403,
    });
  });

  it('rejects the presigned PUT itself once it expired', async () => {
    const { issue, clientUploads, clock, memory } = setup();
    const issued = await issue();
    await clock.advance(600_000);
    const response = await clientUploads(issued.upload.url, { ...issued.upload.headers });
    expect(response.status).toBe(403);
    expect(memory.keys()).toEqual([]);
  });

  it('rejects forged, tampered or foreign tokens with SIGNATURE_INVALID', async () => {
    const { issue, confirm, clock } = setup();
    const issued = await issue();
    const [v, payload, signature] = issued.token.split('.');
    const forgedPayload = btoa(
      JSON.stringify({ i: 'someone-else', k: 'cases/c2/x', e: Date.UTC(2030, 0, 1) }),
    ).replaceAll('=', '');
    const foreign = await createUploadTokens({
      secret: 'another-secret-that-is-long-enough-000000',
      clock,
    }).sign({
      recordId: issued.row.id,
      key: 'cases/c1/passport.pdf',
      expiresAt: issued.confirmBy,
    });
    for (const token of [
      `${v}.${forgedPayload}.${signature}`,
      `${v}.${payload}.AAAA`,
      `${payload}.${signature}`,
      foreign,
      'garbage',
    ]) {
      await expect(confirm(token)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    }
  });

  it('verifies tokens signed with an older secret during rotation', async () => {
    const clock = new ManualClock(0);
    const old = createUploadTokens({ secret, clock });
    const rotated = createUploadTokens({
      secret: ['the-new-secret-that-is-long-enough-99999', secret],
      clock,
    });
    const token = await old.sign({ recordId: 'r', key: 'k', expiresAt: 10_000, size: 3 });
    expect(await rotated.verify(token)).toEqual({
      recordId: 'r',
      key: 'k',
      expiresAt: 10_000,
      size: 3,
      contentType: undefined,
    });
    await expect(
      old.verify(await rotated.sign({ recordId: 'r', key: 'k', expiresAt: 10_000 })),
    ).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });

  it('rejects a short secret with INVALID_OPTIONS', () => {
    expect(() => createUploadTokens({ secret: 'short' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('presigning fails: the pending row is expired again and the error propagates', async () => {
    const { issue, storage, records } = setup();
    storage.faults.setFailOn(failOnCall('presignPut'));
    await expect(issue()).rejects.toThrow('Injected fault: presignPut');
    expect(records.rows().map((r) => r.status)).toEqual(['deleted']);
  });

  it('the pending insert fails: no URL is issued', async () => {
    const { issue, storage, records } = setup();
    records.faults.setFailOn(failOnCall('insert'));
    await expect(issue()).rejects.toThrow('Injected fault: insert');
    expect(storage.faults.calls('presignPut')).toBe(0);
    expect(records.rowCount).toBe(0);
  });

  it('an upload never confirmed is cleaned by reconciliation after its deadline, object and row', async () => {
    const { issue, clientUploads, confirm, clock, storage, records, memory } = setup();
    const abandoned = await issue();
    await clientUploads(abandoned.upload.url, { ...abandoned.upload.headers });
    const neverUploaded = await issueSignedUpload({
      storage,
      records,
      tokens: createUploadTokens({ secret, clock }),
      clock,
      key: 'cases/c1/never.pdf',
      record: { caseId: 'c1' },
    });
    const before = await reconcile({ storage, records, clock });
    expect(before.found.expiredUpload).toBe(0);
    // The abandoned one's deadline is 600 + 300 s, the other's the default 900 + 300 s.
    await clock.advance(900_000);
    expect((await reconcile({ storage, records, clock })).repaired.expiredUpload).toBe(1);
    expect(memory.keys()).toEqual([]);
    await clock.advance(300_000);
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.expiredUpload).toBe(1);
    expect(memory.keys()).toEqual([]);
    expect(records.get(abandoned.row.id)?.status).toBe('deleted');
    expect(records.get(neverUploaded.row.id)?.status).toBe('deleted');
    await expect(confirm(abandoned.token)).rejects.toMatchObject({ code: 'SIGNATURE_EXPIRED' });
  });
});
