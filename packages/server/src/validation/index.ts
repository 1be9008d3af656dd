export {
  checkRequestSchemas,
  type RequestPart,
  type RequestSchemas,
  type ValidatedInput,
  type ValidatedPart,
  validateRequestParts,
} from './request-schemas.js';
