/** `@ballast/adapters/fastify`: Ballast's plugins and hooks for Fastify 4 and 5. Peer: `fastify`. */

// Idempotency.
export { type FastifyIdempotencyOptions, fastifyIdempotency } from './idempotency/index.js';

// Signature verification.
export {
  fastifyVerifySignature,
  type VerifySignatureOptions,
} from './signing/index.js';

// Trace context.
export { type FastifyTraceContextOptions, fastifyTraceContext } from './trace/index.js';
