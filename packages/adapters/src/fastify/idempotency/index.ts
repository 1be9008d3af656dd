export { type FastifyIdempotencyOptions, fastifyIdempotency } from './fastify-idempotency.js';
