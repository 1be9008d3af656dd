export {
  type FastifyErrorHandlerOptions,
  type FastifyProblemHandler,
  fastifyErrorHandler,
  fastifyNotFoundHandler,
} from './fastify-error-handler.js';
