import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createSigner, type Logger } from '@ballast/core';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { rawHttp } from '../../../test/support/raw-http.js';
import {
  type SignedRouteServer,
  signedRouteContract,
  signedRouteOptions,
} from '../../../test/support/signed-route-contract.js';
import { expressTraceContext } from '../trace/express-trace-context.js';
import {
  captureRawBody,
  expressSignature,
  expressVerifySignature,
} from './express-verify-signature.js';

async function listen(app: express.Express): Promise<SignedRouteServer> {
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function mountRoutes(app: express.Express, verify: express.RequestHandler) {
  app.use('/internal', verify);
  const contracts: express.RequestHandler = (req, res) => {
    res.json({
      body: req.body as unknown,
      tenant: req.get('x-tenant-id'),
      keyId: expressSignature(res).keyId ?? null,
    });
  };
  app.post('/internal/contracts', contracts);
  app.put('/internal/contracts', contracts);
  app.get('/internal/contracts/1', (_req, res) => {
    res.json({ ok: true });
  });
}

signedRouteContract(
  'express, express.json({ verify: captureRawBody })',
  () => {
    const app = express();
    app.use(express.json({ verify: captureRawBody, limit: '1mb' }));
    mountRoutes(app, expressVerifySignature(signedRouteOptions()));
    return listen(app);
  },
  { parserRunsFirst: true },
);

signedRouteContract('express, no body parser before verification', () => {
  const app = express();
  mountRoutes(app, expressVerifySignature(signedRouteOptions()));
  // A parser after verification finds the body consumed and leaves req.body as set.
  app.use(express.json());
  return listen(app);
});

describe('expressVerifySignature, Express specifics', () => {
  const secret = 'express-specific-secret-0123456789-abcdef';
  const signer = createSigner({ secret });

  it('works after express.raw(), handing the route the raw Buffer', async () => {
    const app = express();
    app.use(express.raw({ type: '*/*' }));
    app.post('/hook', expressVerifySignature({ secret }), (req, res) => {
      res.json({
        isBuffer: Buffer.isBuffer(req.body),
        text: (req.body as Buffer).toString('utf8'),
      });
    });
    const server = await listen(app);
    try {
      const body = 'plain text, signed';
      const response = await rawHttp(`${server.baseUrl}/hook`, {
        method: 'POST',
        headers: [
          ['content-type', 'text/plain'],
          ...Object.entries(await signer.sign({ method: 'POST', path: '/hook', body })),
        ],
        body,
      });
      expect(response.json()).toEqual({ isBuffer: true, text: body });
    } finally {
      await server.close();
    }
  });

  it('answers 500 INVALID_OPTIONS, and logs why, when a parser ate the body without captureRawBody', async () => {
    const errors: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (fields) => errors.push(fields),
    };
    const app = express();
    app.use(express.json());
    app.post('/hook', expressVerifySignature({ secret, logger }), (_req, res) => {
      res.send('ran');
    });
    const server = await listen(app);
    try {
      const body = '{"a":1}';
      const response = await rawHttp(`${server.baseUrl}/hook`, {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ...Object.entries(await signer.sign({ method: 'POST', path: '/hook', body })),
        ],
        body,
      });
      expect(response.status).toBe(500);
      expect(response.json()).toMatchObject({ code: 'INVALID_OPTIONS' });
      expect(response.text).not.toContain('captureRawBody');
      expect(errors).toEqual([expect.objectContaining({ code: 'INVALID_OPTIONS', path: '/hook' })]);
    } finally {
      await server.close();
    }
  });

  it('logs refusals with the trace when expressTraceContext runs first', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (fields) => warnings.push(fields),
      error: () => {},
    };
    const app = express();
    app.use(expressTraceContext({ logger }));
    app.post('/hook', expressVerifySignature({ secret }), (_req, res) => {
      res.send('ran');
    });
    const server = await listen(app);
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const response = await rawHttp(`${server.baseUrl}/hook`, {
        method: 'POST',
        headers: [['traceparent', `00-${traceId}-00f067aa0ba902b7-01`]],
        body: 'x',
      });
      expect(response.status).toBe(403);
      expect(response.headers['x-request-id']).toBe(traceId);
      expect(warnings).toEqual([
        expect.objectContaining({
          traceId,
          code: 'SIGNATURE_MISSING',
          method: 'POST',
          path: '/hook',
        }),
      ]);
    } finally {
      await server.close();
    }
  });

  it('refuses signed-but-invalid JSON with 400 when it parses the body itself', async () => {
    const app = express();
    app.post('/hook', expressVerifySignature({ secret }), (_req, res) => {
      res.send('ran');
    });
    const server = await listen(app);
    try {
      const body = '{broken';
      const response = await rawHttp(`${server.baseUrl}/hook`, {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ...Object.entries(await signer.sign({ method: 'POST', path: '/hook', body })),
        ],
        body,
      });
      expect(response.status).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    } finally {
      await server.close();
    }
  });

  describe('a compressed body, read by the middleware itself', () => {
    async function compressedServer(maxBodyBytes?: number) {
      const app = express();
      const seen: unknown[] = [];
      app.post(
        '/hook',
        expressVerifySignature({ secret, ...(maxBodyBytes ? { maxBodyBytes } : {}) }),
        (req, res) => {
          seen.push(req.body);
          res.json({ body: req.body as unknown, isBuffer: Buffer.isBuffer(req.body) });
        },
      );
      // A parser after verification finds the body consumed and leaves req.body as set.
      app.use(express.json());
      return { server: await listen(app), seen };
    }
    const post = async (
      baseUrl: string,
      bytes: Buffer,
      coding: string,
      { signed = true, type = 'application/json' } = {},
    ) =>
      rawHttp(`${baseUrl}/hook`, {
        method: 'POST',
        headers: [
          ['content-type', type],
          ['content-encoding', coding],
          ...(signed
            ? Object.entries(await signer.sign({ method: 'POST', path: '/hook', body: bytes }))
            : []),
        ],
        body: bytes,
      });

    it('verifies the bytes as sent (compressed), then hands the route the inflated JSON', async () => {
      const { server } = await compressedServer();
      try {
        const response = await post(server.baseUrl, gzipSync('{"amount":7}'), 'gzip');
        expect(response.status, response.text).toBe(200);
        expect(response.json()).toEqual({ body: { amount: 7 }, isBuffer: false });
        // Signed over the inflated text instead: not what was sent, so refused.
        const inflatedSignature = await signer.sign({
          method: 'POST',
          path: '/hook',
          body: '{"amount":7}',
        });
        const mismatch = await rawHttp(`${server.baseUrl}/hook`, {
          method: 'POST',
          headers: [
            ['content-type', 'application/json'],
            ['content-encoding', 'gzip'],
            ...Object.entries(inflatedSignature),
          ],
          body: gzipSync('{"amount":7}'),
        });
        expect(mismatch.status).toBe(403);
      } finally {
        await server.close();
      }
    });

    it('inflates a body that is not JSON into a Buffer', async () => {
      const { server } = await compressedServer();
      try {
        const response = await post(server.baseUrl, gzipSync('plain words'), 'gzip', {
          type: 'text/plain',
        });
        expect(response.json()).toEqual({
          body: { type: 'Buffer', data: [...Buffer.from('plain words')] },
          isBuffer: true,
        });
      } finally {
        await server.close();
      }
    });

    it('answers 415, 400 and 413 for signed bodies it cannot decode, the route not run', async () => {
      const { server, seen } = await compressedServer(64 * 1024);
      try {
        const unsupported = await post(server.baseUrl, Buffer.from('{"a":1}'), 'compress');
        expect(unsupported.status).toBe(415);
        expect(unsupported.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
        const corrupt = await post(server.baseUrl, Buffer.from('not gzip'), 'gzip');
        expect(corrupt.status).toBe(400);
        expect(corrupt.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
        // 10 MB of zeros in about 10 kB: within the limit as sent, far over it inflated.
        const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, '0'), { level: 9 });
        expect(bomb.length).toBeLessThan(64 * 1024);
        const tooLarge = await post(server.baseUrl, bomb, 'gzip');
        expect(tooLarge.status).toBe(413);
        expect(tooLarge.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
        expect(seen).toEqual([]);
      } finally {
        await server.close();
      }
    });

    it('behind a parser that already inflated it: 415, signed over either form, the route not run', async () => {
      // The parser hands over the bytes it inflated, not the bytes the signature covers: whether
      // the client signed the compressed bytes (a mismatch) or the inflated text (which would
      // pass over bytes never sent), the request is refused with one clear answer.
      for (const parser of [
        express.json({ verify: captureRawBody }),
        express.raw({ type: '*/*' }),
      ]) {
        const seen: unknown[] = [];
        const app = express();
        app.use(parser);
        app.post('/hook', expressVerifySignature({ secret }), (req, res) => {
          seen.push(req.body);
          res.json({ ran: true });
        });
        const server = await listen(app);
        try {
          const compressed = gzipSync('{"amount":7}');
          for (const signedBody of [compressed, Buffer.from('{"amount":7}')]) {
            const signature = await signer.sign({
              method: 'POST',
              path: '/hook',
              body: signedBody,
            });
            const response = await rawHttp(`${server.baseUrl}/hook`, {
              method: 'POST',
              headers: [
                ['content-type', 'application/json'],
                ['content-encoding', 'gzip'],
                ...Object.entries(signature),
              ],
              body: compressed,
            });
            expect(response.status, response.text).toBe(415);
            expect(response.json()).toMatchObject({
              code: 'UNSUPPORTED_MEDIA_TYPE',
              reason: 'decoded-before-verification',
            });
          }
          expect(seen).toEqual([]);
        } finally {
          await server.close();
        }
      }
    });

    it('refuses an unsigned compressed body with 403 before decoding anything', async () => {
      const { server } = await compressedServer();
      try {
        const response = await post(server.baseUrl, Buffer.from('not gzip'), 'gzip', {
          signed: false,
        });
        expect(response.status).toBe(403);
        expect(response.json()).toMatchObject({ code: 'SIGNATURE_MISSING' });
      } finally {
        await server.close();
      }
    });
  });

  it('refuses to hand out a proof the middleware never made', () => {
    expect(() => expressSignature({ locals: {} } as unknown as express.Response)).toThrow(
      /did not run/,
    );
  });
});
