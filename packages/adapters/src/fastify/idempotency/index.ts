export { fastifyIdempotency } from './fastify-idempotency.js';
export type { FastifyIdempotencyOptions } from './fastify-idempotency-config.js';
