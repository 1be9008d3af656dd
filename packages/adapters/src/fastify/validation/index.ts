export { fastifyValidate, type ValidatedRoute } from './fastify-validate.js';
