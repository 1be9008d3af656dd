/**
 * `/health` and `/health/live` for Fastify: `health()` and `live()` from `@ballast/server` as two
 * routes of a plugin.
 */
import { parseOptions } from '@ballast/core/adapter-kit';
import { type HealthOptions, health, live } from '@ballast/server';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { assertPluginArguments } from '../plugin-arguments.js';

/** Options for {@link fastifyHealth}. */
export interface FastifyHealthOptions extends HealthOptions {
  /** Path of the full report. Default `'/health'`. */
  readonly path?: string;
  /** Path of the dependency-free ping. Default `'/health/live'`. */
  readonly livePath?: string;
}

const pathsSchema = z.strictObject({
  path: z.string().startsWith('/').default('/health'),
  livePath: z.string().startsWith('/').default('/health/live'),
});

async function send(reply: FastifyReply, response: Response): Promise<string> {
  reply.code(response.status).headers(Object.fromEntries(response.headers));
  return response.text();
}

/**
 * Fastify plugin: `GET path` answers the health report (503 when a required check is down),
 * `GET livePath` answers `{ status: 'up' }` without touching dependencies.
 *
 * @example
 * ```ts
 * await app.register(fastifyHealth, { checks: { db: postgresHealthCheck(db) }, timeoutMs: 1_000 });
 * ```
 */
export const fastifyHealth: FastifyPluginAsync<FastifyHealthOptions> = async (fastify, options) => {
  assertPluginArguments('fastifyHealth()', fastify, options);
  const { path, livePath, ...healthOptions } = options;
  const paths = parseOptions(pathsSchema, { path, livePath }, 'fastifyHealth()');
  const report = health(healthOptions);
  const ping = live();
  fastify.get(paths.livePath, async (_request, reply) => send(reply, await ping()));
  fastify.get(paths.path, async (_request, reply) => send(reply, await report()));
};
