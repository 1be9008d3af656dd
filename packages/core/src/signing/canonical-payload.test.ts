/**
 * The strict form's byte layout is a wire contract other languages implement from
 * docs/signing.md; this test pins it to the documented test vector.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { strictPayload } from './canonical-payload.js';
import { requestTargetOf } from './signed-fields.js';
import { createSigner } from './signer.js';

const secret = 'ballast-strict-form-test-vector-secret-0001';
const documentedPayload =
  'ballast-strict-v1\n' +
  'timestamp:1748779200000\n' +
  'method:POST\n' +
  'path:/v1/contracts?draft=1\n' +
  'nonce:7f1c0a52-3d4e-4b8a-9c61-2f0e8d9b5a43\n' +
  'x-tenant-id:tenant-a\n' +
  'idempotency-key\n' +
  'content-digest\n' +
  '\n' +
  '{"customer_id":"c1"}';

describe('strict canonical form', () => {
  it('is exactly the documented bytes (test vector in docs/signing.md)', async () => {
    const bytes = strictPayload(
      {
        timestamp: '1748779200000',
        method: 'POST',
        path: '/v1/contracts?draft=1',
        nonce: '7f1c0a52-3d4e-4b8a-9c61-2f0e8d9b5a43',
        headers: [
          ['x-tenant-id', 'tenant-a'],
          ['idempotency-key', undefined],
        ],
        contentDigest: undefined,
      },
      '{"customer_id":"c1"}',
    );
    expect(new TextDecoder().decode(bytes)).toBe(documentedPayload);
    const signer = createSigner({
      secret,
      canonical: 'strict',
      clock: new ManualClock(1748779200000),
    });
    const headers = await signer.sign({
      method: 'post',
      path: 'https://edge.internal/v1/contracts?draft=1',
      headers: { 'X-Tenant-Id': 'tenant-a' },
      nonce: '7f1c0a52-3d4e-4b8a-9c61-2f0e8d9b5a43',
      body: '{"customer_id":"c1"}',
    });
    const expected = createHmac('sha256', secret).update(documentedPayload).digest('base64');
    expect(headers['x-internal-signature']).toBe(expected);
    expect(expected).toBe('g0Y6uv9kDdx1G0I70TdkHAig+WIsVb8OtDu+6yaVmk0=');
  });
});

describe('requestTargetOf', () => {
  it.each([
    ['/a?', '/a?'],
    ['/a/../b?x=a b#top', '/b?x=a%20b'],
    ['//not-a-host/x', '//not-a-host/x'],
    ['https://user:pw@h.example:8080/p/q?z#f', '/p/q?z'],
    ['http://h.example', '/'],
    ['/ü?q=ü', '/%C3%BC?q=%C3%BC'],
    ['https://h.example/a%2Fb/./c', '/a%2Fb/c'],
  ])('%s → %s', (input, target) => {
    expect(requestTargetOf(input)).toBe(target);
  });

  it.each(['relative/path', '', 'mailto:x@example.com', 'not a url'])('refuses %j', (input) => {
    expect(requestTargetOf(input)).toBeUndefined();
  });
});
