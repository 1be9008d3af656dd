export { restore, type SoftDeleteOptions, softDelete, whereNotDeleted } from './soft-delete.js';
