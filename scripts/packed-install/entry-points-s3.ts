// Checked apart, with skipLibCheck: the AWS SDK's own declarations are ten times the rest of
// the project, and checking them proves nothing about Ballast. The s3 entry's types are still
// used here (a missing export or a wrong option fails); the declarations of everything it
// shares with the other entries are checked strictly in entry-points.ts's program.

import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStorage } from '@ballast/adapters/s3';
import type { ObjectStorage } from '@ballast/core';

export const storage: ObjectStorage = new S3ObjectStorage({
  bucket: 'documents',
  client: new S3Client({ region: 'eu-west-1', forcePathStyle: true }),
});
