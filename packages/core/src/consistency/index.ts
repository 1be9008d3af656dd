export type {
  DocumentRecordContext,
  DocumentRecordRef,
  DocumentRecords,
  DocumentStatus,
  ListByKeyOptions,
  NewDocumentRecord,
  SoftDeletedRecord,
} from './document-records.js';
export {
  type DeletedDocument,
  type MarkThenDeleteOptions,
  markThenDelete,
} from './mark-then-delete.js';
export {
  type MemoryDependantRow,
  MemoryDocumentRecords,
  type MemoryDocumentRecordsOptions,
  type MemoryDocumentRow,
} from './memory-document-records.js';
export type { RecipeOptions } from './recipe-options.js';
export {
  type ConfirmUploadOptions,
  confirmUpload,
  type IssueSignedUploadOptions,
  issueSignedUpload,
  type SignedUpload,
} from './signed-upload.js';
export { type UploadInTransactionOptions, uploadInTransaction } from './upload-in-transaction.js';
export {
  type RecordedObject,
  type UploadThenRecordOptions,
  uploadThenRecord,
} from './upload-then-record.js';
export {
  createUploadTokens,
  type UploadTokenClaims,
  type UploadTokens,
  type UploadTokensOptions,
} from './upload-tokens.js';
