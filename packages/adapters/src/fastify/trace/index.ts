export {
  type FastifyTraceContextOptions,
  fastifyTraceContext,
} from './fastify-trace-context.js';
