/**
 * The server-kit routes of the documents API meet malformed and hostile input: bad If-Match
 * values, ids that are not ids, oversized or malformed bodies, expired or revoked links. Every
 * answer is a 4xx in problem+json, never a 5xx, and never a stack trace or SQL.
 */
import { ManualClock } from '@ballast/core';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { openTestEnvironment, type TestEnvironment } from './test-environment.js';

const hour = 3_600_000;
const clock = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
let env: TestEnvironment;
let app: FastifyInstance;
let id: string;

beforeAll(async () => {
  env = await openTestEnvironment('fastify-documents-hostile');
  app = await buildApp({ ...env, clock, shareTtlMs: hour });
  const created = await app.inject({
    method: 'POST',
    url: '/documents?name=a.txt',
    headers: { 'content-type': 'text/plain' },
    payload: 'contents',
  });
  expect(created.statusCode).toBe(201);
  id = created.json().id;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await env?.close();
});

function expectProblem(response: LightMyRequestResponse, status?: number) {
  expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
  expect(response.statusCode, response.body).toBeLessThan(500);
  if (status !== undefined) expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.body).not.toMatch(/at .*\.(ts|js):\d+|SELECT|UPDATE|INSERT|postgres/i);
}

const patch = (url: string, ifMatch: string | undefined, payload: string) =>
  app.inject({
    method: 'PATCH',
    url,
    headers: {
      'content-type': 'application/json',
      ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }),
    },
    payload,
  });

describe('fastify-documents server kit with hostile input', () => {
  it.each([
    ['a weak tag', 'W/"1"', 412],
    ['a list', '"1", "2"', undefined],
    ['a huge number', '"99999999999999999999999999"', undefined],
    ['a negative number', '"-1"', undefined],
    ['a fraction', '"1.5"', undefined],
    ['no quotes', '1', undefined],
    ['an empty tag', '""', undefined],
    ['garbage', 'x'.repeat(5_000), undefined],
  ])('If-Match with %s → 4xx problem+json, nothing renamed', async (_label, ifMatch, status) => {
    const before = (await app.inject({ url: `/documents/${id}` })).json();
    expectProblem(await patch(`/documents/${id}`, ifMatch, '{"name":"evil.txt"}'), status);
    expect((await app.inject({ url: `/documents/${id}` })).json()).toEqual(before);
  });

  it('If-Match: * matches the current version (RFC 9110): 200', async () => {
    const renamed = await patch(`/documents/${id}`, '*', '{"name":"b.txt"}');
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'b.txt' });
  });

  it.each([
    ['not a uuid', '/documents/1'],
    ['a traversal', '/documents/..%2F..%2Fetc'],
    ['a SQL fragment', `/documents/${encodeURIComponent("1' OR '1'='1")}`],
  ])('PATCH with an id that is %s → 400 problem+json', async (_label, url) => {
    expectProblem(await patch(url, '"1"', '{"name":"x"}'), 400);
  });

  it.each([
    ['malformed JSON', '{"name":'],
    ['a body that is an array', '[]'],
    ['an unknown field', '{"name":"x","version":9}'],
    ['a name that is too long', JSON.stringify({ name: 'x'.repeat(300) })],
  ])('PATCH with %s → 400 problem+json', async (_label, payload) => {
    expectProblem(await patch(`/documents/${id}`, '"1"', payload), 400);
  });

  it('PATCH with an oversized body → 413 problem+json', async () => {
    expectProblem(
      await patch(`/documents/${id}`, '"1"', JSON.stringify({ name: 'x'.repeat(2_000_000) })),
      413,
    );
  });

  it.each([
    ['GET', '/shares/not-a-token'],
    ['DELETE', '/shares/1'],
    ['POST', '/shares/%00/restore'],
    ['POST', '/documents/1/shares'],
  ])('%s %s → 400 problem+json', async (method, url) => {
    expectProblem(await app.inject({ method: method as 'GET', url }), 400);
  });

  it('a share link for an unknown document, revoked, or expired → 404/410 problem+json', async () => {
    expectProblem(
      await app.inject({ method: 'POST', url: `/documents/${crypto.randomUUID()}/shares` }),
      404,
    );
    expectProblem(await app.inject({ url: `/shares/${crypto.randomUUID()}` }), 404);
    const share = await app.inject({ method: 'POST', url: `/documents/${id}/shares` });
    expect(share.statusCode).toBe(201);
    const { token } = share.json();
    await clock.advance(hour + 1);
    expectProblem(await app.inject({ url: `/shares/${token}` }), 410);
    await app.inject({ method: 'DELETE', url: `/shares/${token}` });
    expectProblem(await app.inject({ url: `/shares/${token}` }), 404);
  });
});
