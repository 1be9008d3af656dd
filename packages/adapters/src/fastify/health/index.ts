export { type FastifyHealthOptions, fastifyHealth } from './fastify-health.js';
