export {
  fastifyVerifySignature,
  type VerifySignatureOptions,
} from './fastify-verify-signature.js';
