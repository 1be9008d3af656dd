/**
 * The server side of `error-handler.bench.ts`, run as its own process so the load generator and
 * the server do not share an event loop. One framework per process (MODE `express` or
 * `fastify`), three copies of the same app on three ports:
 * - `bare`      no Ballast: Express's own final handler, or Fastify's default handlers
 * - `control`   a second bare app, identical to the first: how far two identical contenders
 *               drift apart is the noise floor the Ballast figure is read against
 * - `ballast`   the same app with Ballast's not-found and error handlers installed as the docs
 *               say (`expressNotFoundHandler()` + `expressErrorHandler()` after the routes;
 *               `setErrorHandler(fastifyErrorHandler())` + `setNotFoundHandler(...)`)
 * All three share one process, so its CPU, scheduling and JIT are the same for each; the bench
 * loads one app at a time, so the process's CPU time over a round is that app's.
 *
 * Routes: GET /items/:id (the passing request being measured: a small JSON answer), GET /boom
 * (throws, so the bench can check which error handler is installed), GET /stats →
 * `{ cpuMicros }`. Prints `listening bare=<port> control=<port> ballast=<port>` when ready.
 */
import { expressErrorHandler, expressNotFoundHandler } from '@ballast/adapters/express';
import { fastifyErrorHandler, fastifyNotFoundHandler } from '@ballast/adapters/fastify';
import { noopLogger } from '@ballast/core';
import express from 'express';
import Fastify from 'fastify';

const mode = process.env.MODE ?? 'express';
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
  return (app.server.address() as { port: number }).port;
}

if (mode !== 'express' && mode !== 'fastify') throw new Error(`Unknown MODE ${mode}`);
const start = mode === 'express' ? startExpress : startFastify;
const ports = {
  bare: await start(false),
  control: await start(false),
  ballast: await start(true),
};
console.log(`listening bare=${ports.bare} control=${ports.control} ballast=${ports.ballast}`);
process.once('SIGTERM', () => process.exit(0));
