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
  const issue = (
    extra: {
      size?: number;
      expiresInSeconds?: number;
      checksumSha256?: string;
      contentType?: string;
    } = {},
  ) =>
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

  it('confirmations racing each other all resolve with the active row (none is told nothing was uploaded)', async () => {
    const { issue, clientUploads, confirm, memory } = setup();
    const issued = await issue();
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    // A double-clicked "done" button: the losers of the move find the staged object gone.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 4 }, () => confirm(issued.token)),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(4).fill('fulfilled'));
    expect(memory.keys()).toEqual(['cases/c1/passport.pdf']);
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

  it('binds the declared size into the URL: storage refuses another length', async () => {
    const { issue, clientUploads, confirm, records, memory } = setup();
    const declared = await issue({ size: 5 });
    const tooBig = await clientUploads(
      declared.upload.url,
      { ...declared.upload.headers },
      'x'.repeat(10_000),
    );
    expect(tooBig.status).toBe(403);
    expect(memory.keys()).toEqual([]);
    await expect(confirm(declared.token)).rejects.toMatchObject({ code: 'OBJECT_NOT_FOUND' });
    expect(records.get(declared.row.id)?.status).toBe('pending');
    const exact = await clientUploads(declared.upload.url, { ...declared.upload.headers }, '12345');
    expect(exact.status).toBe(200);
    await expect(confirm(declared.token)).resolves.toMatchObject({ object: { size: 5 } });
  });

  it('binds the declared SHA-256 and a default content type into the URL', async () => {
    const { clientUploads, memory } = setup();
    const digest = await sha256(body);
    const issued = await issueSignedUpload({
      storage: memory,
      records: new MemoryDocumentRecords(),
      tokens: createUploadTokens({ secret }),
      key: 'cases/c1/any',
      record: {},
      size: 16,
      checksumSha256: digest.hex,
    });
    expect(issued.upload.headers).toEqual({
      'content-type': 'application/octet-stream',
      'x-amz-checksum-sha256': digest.base64,
    });
    const html = { ...issued.upload.headers, 'content-type': 'text/html' };
    expect((await clientUploads(issued.upload.url, html)).status).toBe(403);
    const sameLength = 'other bytes, 16!';
    const swapped = await clientUploads(
      issued.upload.url,
      { ...issued.upload.headers },
      sameLength,
    );
    expect(swapped.status).toBe(400);
    expect(memory.keys()).toEqual([]);
    expect((await clientUploads(issued.upload.url, { ...issued.upload.headers })).status).toBe(200);
  });

  it('rejects an object of another size than expected at confirmation', async () => {
    const { issue, clientUploads, confirm, records } = setup();
    const issued = await issue();
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    await expect(confirm(issued.token, { expectedSize: 5 })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'size' },
    });
    expect(records.get(issued.row.id)?.status).toBe('pending');
    await expect(confirm(issued.token, { expectedSize: 16 })).resolves.toBeDefined();
  });

  it('rejects an object whose content type is not the one signed into the URL (a storage that does not check it)', async () => {
    const { issue, tokens, memory, confirm, records } = setup();
    const issued = await issue();
    const { stagingKey } = await tokens.verify(issued.token);
    // What a gateway that ignores presigned headers keeps: the uploader's own type.
    await memory.put(stagingKey!, new TextEncoder().encode('<script>'), {
      contentType: 'text/html',
    });
    await expect(confirm(issued.token)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'contentType' },
    });
    expect(records.get(issued.row.id)?.status).toBe('pending');
    // The same media type with parameters or in another case is the same type.
    await memory.put(stagingKey!, new TextEncoder().encode(body), {
      contentType: 'Application/PDF; charset=binary',
    });
    await expect(confirm(issued.token)).resolves.toMatchObject({ row: { status: 'active' } });
  });

  it('uploads to a staging key and promotes it: the URL can never replace a confirmed object', async () => {
    const { issue, clientUploads, confirm, memory, records } = setup();
    const issued = await issue({ size: 16 });
    expect(decodeURIComponent(new URL(issued.upload.url).pathname)).toMatch(
      /^\/cases\/c1\/passport\.pdf\.upload-[0-9a-f]{32}$/,
    );
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    expect(memory.keys()).toEqual([expect.stringMatching(/\.upload-/)]);
    const first = await confirm(issued.token);
    expect(memory.keys()).toEqual(['cases/c1/passport.pdf']);
    // The same URL again, with other bytes of the declared size: staged, never promoted.
    const again = await clientUploads(
      issued.upload.url,
      { ...issued.upload.headers },
      'SWAPPED CONTENT!',
    );
    expect(again.status).toBe(200);
    const second = await confirm(issued.token);
    expect(second.row).toEqual(first.row);
    expect(memory.keys()).toEqual(['cases/c1/passport.pdf']);
    const stored = await memory.get('cases/c1/passport.pdf');
    expect(await new Response(stored!.body).text()).toBe(body);
    expect(records.get(issued.row.id)?.status).toBe('active');
  });

  it('a repeated confirmation re-checks the final object', async () => {
    const { issue, clientUploads, confirm, memory } = setup();
    const issued = await issue({ size: 16 });
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    await confirm(issued.token);
    // Replaced behind the recipe's back (another writer with credentials).
    await memory.delete('cases/c1/passport.pdf');
    await memory.put('cases/c1/passport.pdf', 'ten bytes!');
    await expect(confirm(issued.token)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { field: 'size' },
    });
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
    // Read twice: the staged object before promotion, the final one after.
    expect(withoutChecksum.faults.calls('get')).toBe(2);
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

  it('refuses a declared SHA-256 or content type that is not one with VALIDATION_FAILED (400), inserting no row', async () => {
    // Both are the uploader's (docs: "computed by the client before asking"; file.type): they
    // were INVALID_OPTIONS, a 500, and a control character reached presignPut() after the row.
    const { records, issue } = setup();
    const declared: Array<[string, { checksumSha256?: string; contentType?: string }]> = [
      ['checksumSha256', { checksumSha256: 'not-a-sha256' }],
      ['checksumSha256', { checksumSha256: 'a'.repeat(200) }],
      ['contentType', { contentType: 'text/html\r\nx-amz-acl: public-read' }],
      ['contentType', { contentType: `x/${'y'.repeat(1100)}` }],
    ];
    for (const [field, extra] of declared) {
      await expect(issue(extra)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        status: 400,
        details: { field },
      });
    }
    expect(records.faults.calls('insert')).toBe(0);
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
    // The staged object has no row: an orphan, deleted once older than the grace period.
    expect(memory.keys()).toEqual([expect.stringMatching(/^cases\/c1\/passport\.pdf\.upload-/)]);
    await clock.advance(300_000);
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.expiredUpload).toBe(1);
    await clock.advance(3_600_000);
    expect((await reconcile({ storage, records, clock })).repaired.orphanObject).toBe(1);
    expect(memory.keys()).toEqual([]);
    expect(records.get(abandoned.row.id)?.status).toBe('deleted');
    expect(records.get(neverUploaded.row.id)?.status).toBe('deleted');
    await expect(confirm(abandoned.token)).rejects.toMatchObject({ code: 'SIGNATURE_EXPIRED' });
  });

  it('reconciliation keeps the staged object of an upload that may still be confirmed, however long its window', async () => {
    const { issue, clientUploads, confirm, clock, storage, records, memory } = setup();
    // A 4 h URL: longer than reconcile()'s one-hour grace period for objects without a row.
    const issued = await issue({ expiresInSeconds: 4 * 3600 });
    await clientUploads(issued.upload.url, { ...issued.upload.headers });
    await clock.advance(2 * 3_600_000);
    const report = await reconcile({ storage, records, clock });
    expect(report.found.orphanObject).toBe(0);
    expect((await confirm(issued.token)).row).toMatchObject({ status: 'active' });
    expect(memory.keys()).toEqual(['cases/c1/passport.pdf']);
  });

  it('reconciliation still deletes a staged object once its upload expired or was confirmed', async () => {
    const { issue, clientUploads, confirm, clock, storage, records, memory } = setup();
    const confirmed = await issue({ expiresInSeconds: 4 * 3600 });
    await clientUploads(confirmed.upload.url, { ...confirmed.upload.headers });
    await confirm(confirmed.token);
    // The URL replayed after confirmation stages a new object beside the confirmed one.
    await clientUploads(confirmed.upload.url, { ...confirmed.upload.headers });
    await clock.advance(2 * 3_600_000);
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.orphanObject).toBe(1);
    expect(memory.keys()).toEqual(['cases/c1/passport.pdf']);
  });
});
