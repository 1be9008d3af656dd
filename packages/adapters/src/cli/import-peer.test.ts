import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from './command-kit.js';
import { exitCodes } from './exit-codes.js';
import { importPeer } from './import-peer.js';

describe('importPeer', () => {
  it('turns a peer that is not installed into a configuration error naming what to install', async () => {
    const missing = 'ballast-peer-that-is-not-installed';
    const error = await importPeer(() => import(missing), missing, 'reconcile', 'bucket').then(
      () => expect.unreachable(),
      (error: unknown) => error,
    );
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe(
      `reconcile needs the optional package ${missing}: npm i ${missing}`,
    );
    expect((error as { details: unknown }).details).toEqual({ field: 'bucket', peer: missing });
    expect(exitCodeFor(error)).toBe(exitCodes.config);
  });

  it('passes on a module that loads, and any other failure unchanged', async () => {
    expect(await importPeer(async () => 42, 'pg', 'backup', 'databaseUrl')).toBe(42);
    const broken = Object.assign(new Error("Cannot find package 'other' imported from x"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(
      importPeer(() => Promise.reject(broken), 'pg', 'backup', 'databaseUrl'),
    ).rejects.toBe(broken);
  });
});
