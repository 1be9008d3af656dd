/**
 * The server side of `error-handler.bench.ts`, run as its own process so the load generator and
 * the server do not share an event loop. One route, four ways:
 * - `express-bare`      Express 5 with nothing after the route (Express's own final handler)
 * - `express-ballast`   the same app with `expressNotFoundHandler()` and `expressErrorHandler()`
 *                       mounted after it, as the docs say
 * - `fastify-bare`      Fastify 5 with its default error and not-found handlers
 * - `fastify-ballast`   the same app with `fastifyErrorHandler()` and `fastifyNotFoundHandler()`
 *
 * Routes: GET /items/:id (the passing request being measured: a small JSON answer), GET /boom
 * (throws, so the bench can check which error handler is installed), GET /stats →
 * `{ cpuMicros }`. Prints `listening <port>` when ready. Environment: MODE.
 */
import { expressErrorHandler, expressNotFoundHandler } from '@ballast/adapters/express';
import { fastifyErrorHandler, fastifyNotFoundHandler } from '@ballast/adapters/fastify';
import { noopLogger } from '@ballast/core';
import express from 'express';
import Fastify from 'fastify';

const mode = process.env.MODE ?? 'express-bare';
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
// Silent: the error handler would log the /boom probe's 500, and logging is not what is measured.
const logger = noopLogger;

const item = (id: string) => ({ id, name: 'coffee', price: 12, currency: 'EUR' });

async function startExpress(withBallast: boolean): Promise<number> {
  const app = express();
  app.get('/items/:id', (req, res) => {
    res.json(item(req.params.id));
  });
  app.get('/boom', () => {
    throw new Error('relation "secret_internal_table" does not exist');
  });
  app.get('/stats', (_req, res) => {
    res.json({ cpuMicros: cpuMicros() });
  });
  if (withBallast) {
    app.use(expressNotFoundHandler());
    app.use(expressErrorHandler({ logger }));
  }
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve((server.address() as { port: number }).port);
    });
    process.once('SIGTERM', () => server.close(() => process.exit(0)));
  });
}

async function startFastify(withBallast: boolean): Promise<number> {
  const app = Fastify();
  if (withBallast) {
    app.setErrorHandler(fastifyErrorHandler({ logger }));
    app.setNotFoundHandler(fastifyNotFoundHandler());
  }
  app.get<{ Params: { id: string } }>('/items/:id', async (request) => item(request.params.id));
  app.get('/boom', async () => {
    throw new Error('relation "secret_internal_table" does not exist');
  });
  app.get('/stats', async () => ({ cpuMicros: cpuMicros() }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  process.once('SIGTERM', () => {
    void app.close().finally(() => process.exit(0));
  });
  return (app.server.address() as { port: number }).port;
}

const [framework, variant] = mode.split('-');
if (
  (framework !== 'express' && framework !== 'fastify') ||
  !['bare', 'ballast'].includes(variant ?? '')
) {
  throw new Error(`Unknown MODE ${mode}`);
}
const port =
  framework === 'express'
    ? await startExpress(variant === 'ballast')
    : await startFastify(variant === 'ballast');
console.log(`listening ${port}`);
