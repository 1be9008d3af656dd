import { BallastError, errorCatalogue, isBallastError, toProblem } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../fetch/problem-response.js';
import { referenceConflict } from '../queue/temporary-ids.js';
import { uploadFailed } from '../upload/upload-file.js';
import { asClientError, clientError, clientErrorCodes } from './client-error.js';

describe('clientError', () => {
  it('gives every code it lists the status, retryability and action of core’s catalogue', () => {
    for (const code of Object.keys(clientErrorCodes)) {
      const { status, retryable, action } = clientError(code);
      expect({ code, status, retryable, action }).toEqual({
        code,
        ...errorCatalogue[code as keyof typeof errorCatalogue],
      });
    }
  });

  it('gives the codes only uploads and temporary ids build the defaults of core’s catalogue', () => {
    for (const [code, defaults] of [
      ['UPLOAD_FAILED', uploadFailed],
      ['REFERENCE_CONFLICT', referenceConflict],
    ] as const) {
      const { status, retryable, action } = clientError(code, {}, defaults);
      expect({ code, status, retryable, action }).toEqual({
        code,
        ...errorCatalogue[code],
      });
    }
  });

  it('builds a BallastError, with the options over the defaults', () => {
    const error = clientError('TIMEOUT', { message: 'late', status: 408, details: { ms: 5 } });
    expect(error).toBeInstanceOf(BallastError);
    expect(isBallastError(error, 'TIMEOUT')).toBe(true);
    expect(error.toJSON()).toEqual({
      name: 'BallastError',
      code: 'TIMEOUT',
      status: 408,
      message: 'late',
      retryable: true,
      action: 'retry',
      details: { ms: 5 },
    });
  });

  it('gives a code it does not list, even one named like an Object member, the unknown defaults', () => {
    for (const code of ['SOMETHING_NEW', 'toString', 'constructor', '__proto__']) {
      expect(clientError(code)).toMatchObject({
        code,
        status: 500,
        retryable: false,
        action: 'none',
      });
    }
  });

  it('passes a BallastError through and makes anything else INTERNAL, keeping the cause', () => {
    const known = clientError('ABORTED');
    expect(asClientError(known)).toBe(known);
    const cause = new TypeError('x is undefined');
    expect(asClientError(cause)).toMatchObject({
      code: 'INTERNAL',
      status: 500,
      action: 'contact-support',
      message: 'INTERNAL',
      cause,
    });
  });
});

describe('errors from a Ballast server', () => {
  it('keep the action and retryability the server sent for every code in the catalogue', async () => {
    for (const code of Object.keys(errorCatalogue)) {
      const sent = toProblem(new BallastError(code));
      const response = new Response(JSON.stringify(sent), {
        status: sent.status,
        headers: { 'content-type': 'application/problem+json' },
      });
      const error = await errorFromResponse(response, 0);
      expect({ code: error.code, status: error.status, action: error.action }).toEqual({
        code,
        status: sent.status,
        action: sent.action,
      });
      expect(error.retryable).toBe(sent.retryable);
      expect(error.message).toBe(sent.detail);
    }
  });
});
