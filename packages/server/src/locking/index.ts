export {
  type AssertIfMatchOptions,
  assertIfMatch,
  type ExpectedVersion,
  expectedVersion,
  type IfMatchOptions,
  preconditionFailed,
  versionETag,
  writeIfMatch,
} from './version-etag.js';
