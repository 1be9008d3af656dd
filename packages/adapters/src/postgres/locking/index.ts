export {
  type UpdateWithVersionOptions,
  updateWithVersion,
  type VersionedRowKey,
} from './update-with-version.js';
