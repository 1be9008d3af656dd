export {
  type MergeConflictPolicy,
  type MergeFieldsOptions,
  type MergeResult,
  mergeFields,
} from './merge-fields.js';
export {
  isVersionConflict,
  VersionConflictError,
  type VersionConflictErrorOptions,
} from './version-conflict-error.js';
