export {
  type FastifyVerifySignatureOptions,
  fastifyVerifySignature,
} from './fastify-verify-signature.js';
