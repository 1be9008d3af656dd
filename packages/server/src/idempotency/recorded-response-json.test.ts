import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RecordedResponse, recordResponse } from './recorded-response.js';
import { recordedResponseJson } from './recorded-response-json.js';

const recordedResponses: fc.Arbitrary<RecordedResponse> = fc.record({
  status: fc.integer({ min: 200, max: 599 }),
  headers: fc.array(fc.tuple(fc.string(), fc.string({ unit: 'binary' })), { maxLength: 4 }),
  body: fc.option(
    fc.record({
      encoding: fc.constantFrom('text' as const, 'base64' as const),
      data: fc.string({ unit: 'binary' }),
    }),
  ),
});

describe('recordedResponseJson', () => {
  it('is the text JSON.stringify writes for any recorded response (property)', () => {
    fc.assert(
      fc.property(recordedResponses, (recorded) => {
        expect(recordedResponseJson(recorded)).toBe(JSON.stringify(recorded));
      }),
      { numRuns: 300 },
    );
  });

  it('writes a recorded JSON response, an empty one and a binary one as JSON would', () => {
    const headers = { 'content-type': 'application/json; charset=utf-8', location: '/sales/"1"' };
    for (const recorded of [
      recordResponse({ status: 201, headers, body: '{"id":1,"note":"caf\u00e9 \\ \n"}' }),
      recordResponse({ status: 204, headers: {}, body: '' }),
      recordResponse({
        status: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: new Uint8Array([0, 255, 34, 92]),
      }),
    ]) {
      expect(recordedResponseJson(recorded)).toBe(JSON.stringify(recorded));
    }
  });
});
