export {
  type FastifyRateLimitOptions,
  type FastifyRateLimitPluginOptions,
  fastifyRateLimitOptions,
} from './fastify-rate-limit-options.js';
