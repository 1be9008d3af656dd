/**
 * A probe for any `ObjectStorage`: a HEAD of a key that need not exist. A missing object is a
 * healthy answer (the backend replied); only a failure to reply is `down`.
 */
import type { ObjectStorage } from '@ballast/core';
import type { HealthProbe } from './health-check.js';

/**
 * A {@link HealthProbe} for object storage (S3, file system, memory).
 *
 * @param probeKey the key to HEAD. Default `'ballast-health-probe'`.
 */
export function storageHealthCheck(
  storage: Pick<ObjectStorage, 'head'>,
  probeKey = 'ballast-health-probe',
): HealthProbe {
  return async (signal) => {
    await storage.head(probeKey, { signal });
  };
}
