import { VersionConflictError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { problemResponse } from '../errors/problem-response.js';
import {
  assertIfMatch,
  expectedVersion,
  preconditionFailed,
  versionETag,
  writeIfMatch,
} from './version-etag.js';

const code = (c: string, extra: object = {}) => expect.objectContaining({ code: c, ...extra });

describe('versionETag', () => {
  it('is the strong entity tag "<version>"', () => {
    expect(versionETag(7)).toBe('"7"');
    expect(versionETag(0)).toBe('"0"');
    expect(() => versionETag(-1)).toThrow(code('INVALID_OPTIONS'));
    expect(() => versionETag(1.5)).toThrow(code('INVALID_OPTIONS'));
  });
});

describe('expectedVersion', () => {
  it('reads one strong numeric tag, and * as any version', () => {
    expect(expectedVersion('"7"')).toBe(7);
    expect(expectedVersion(' "12" ')).toBe(12);
    expect(expectedVersion('*')).toBe('*');
    expect(expectedVersion(['"3"'])).toBe(3);
  });

  it('answers a missing precondition with 428, or undefined when not required', () => {
    expect(() => expectedVersion(undefined)).toThrow(
      code('PRECONDITION_REQUIRED', { status: 428 }),
    );
    expect(() => expectedVersion('  ')).toThrow(code('PRECONDITION_REQUIRED'));
    expect(expectedVersion(null, { required: false })).toBeUndefined();
  });

  it('answers tags that can never match a version with 412 (weak tags never match If-Match)', () => {
    expect(() => expectedVersion('W/"7"')).toThrow(code('PRECONDITION_FAILED', { status: 412 }));
    expect(() => expectedVersion('"abc"')).toThrow(code('PRECONDITION_FAILED'));
  });

  it('answers a tag past the largest safe integer with 412, not a rounded version', () => {
    // Red-team finding: 16 digits were read with Number(), so "9007199254740993" became
    // 9007199254740992 (another version) and "9999999999999999" 1e16, which updateWithVersion
    // then refused as INVALID_OPTIONS: a client header turned into a 500.
    expect(expectedVersion('"9007199254740991"')).toBe(Number.MAX_SAFE_INTEGER);
    for (const tag of ['"9007199254740992"', '"9007199254740993"', '"9999999999999999"']) {
      expect(() => expectedVersion(tag), tag).toThrow(code('PRECONDITION_FAILED', { status: 412 }));
    }
    expect(() => assertIfMatch('"9007199254740993"', 7)).toThrow(code('PRECONDITION_FAILED'));
  });

  it('refuses several versions or a header that is not an entity-tag list with 400', () => {
    expect(() => expectedVersion('"6", "7"')).toThrow(code('VALIDATION_FAILED', { status: 400 }));
    expect(() => expectedVersion('7')).toThrow(code('VALIDATION_FAILED'));
    expect(() => expectedVersion('"7" junk')).toThrow(code('VALIDATION_FAILED'));
  });

  it('reads one version named twice (a header sent twice, joined by the framework) as that version', () => {
    // Node joins a repeated If-Match into `"7", "7"`: one version, not several to choose from.
    expect(expectedVersion('"7", "7"')).toBe(7);
    expect(expectedVersion(['"7"', '"7"'])).toBe(7);
    expect(expectedVersion('"7", W/"7", "7"')).toBe(7);
    expect(() => expectedVersion(['"7"', '"8"'])).toThrow(code('VALIDATION_FAILED'));
  });

  it('ignores empty list elements wherever they are, as RFC 9110 §5.6.1.2 asks', () => {
    for (const header of [',"7"', '"7",', ' , "7" , ,', '"7",,', ', ,"7"']) {
      expect(expectedVersion(header), header).toBe(7);
    }
    expect(() => assertIfMatch(',"6",, "7"', 7)).not.toThrow();
    expect(() => expectedVersion(', ,')).toThrow(code('VALIDATION_FAILED'));
    // Linear however many empty elements a client sends.
    expect(expectedVersion(`${', '.repeat(5_000)}"7"${' ,'.repeat(5_000)}`)).toBe(7);
  });

  it('rejects unknown options', () => {
    expect(() => expectedVersion('"1"', { require: true } as never)).toThrow(
      code('INVALID_OPTIONS'),
    );
  });
});

describe('assertIfMatch', () => {
  it('passes when a listed tag names the current version, or for *', () => {
    expect(() => assertIfMatch('"7"', 7)).not.toThrow();
    expect(() => assertIfMatch('"6", "7"', 7)).not.toThrow();
    expect(() => assertIfMatch('*', 7)).not.toThrow();
  });

  it('answers a stale tag with 412 carrying currentVersion and current', async () => {
    let thrown: unknown;
    try {
      assertIfMatch('"6"', 7, { current: { id: 1, title: 'theirs' } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toEqual(code('PRECONDITION_FAILED', { status: 412 }));
    const response = problemResponse(thrown);
    expect(response.status).toBe(412);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({
      code: 'PRECONDITION_FAILED',
      currentVersion: 7,
      current: { id: 1, title: 'theirs' },
    });
    expect(() => assertIfMatch('W/"7"', 7)).toThrow(code('PRECONDITION_FAILED'));
  });

  it('refuses an ifMatch that is not a header value with INVALID_OPTIONS, as expectedVersion does', () => {
    for (const ifMatch of [7, { value: '"7"' }, ['"7"', 7]]) {
      expect(() => assertIfMatch(ifMatch as never, 7)).toThrow(code('INVALID_OPTIONS'));
    }
  });

  it('answers a missing header with 428 unless not required', () => {
    expect(() => assertIfMatch(undefined, 1)).toThrow(code('PRECONDITION_REQUIRED'));
    expect(() => assertIfMatch(undefined, 1, { required: false })).not.toThrow();
  });
});

describe('preconditionFailed / writeIfMatch', () => {
  it('turns a version conflict into 412 keeping currentVersion and current; passes others through', () => {
    const conflict = new VersionConflictError({ currentVersion: 4, current: { id: 2 } });
    const failed = preconditionFailed(conflict);
    expect(failed).toEqual(code('PRECONDITION_FAILED', { status: 412 }));
    expect((failed as { details: unknown }).details).toEqual({
      currentVersion: 4,
      current: { id: 2 },
    });
    const other = new Error('x');
    expect(preconditionFailed(other)).toBe(other);
  });

  it('runs the write with the expected version and maps a lost race to 412', async () => {
    expect(await writeIfMatch('"3"', (version) => ({ version }))).toEqual({ version: 3 });
    await expect(
      writeIfMatch('"3"', () => {
        throw new VersionConflictError({ currentVersion: 5 });
      }),
    ).rejects.toEqual(code('PRECONDITION_FAILED', { details: { currentVersion: 5 } }));
    await expect(writeIfMatch(undefined, () => 1)).rejects.toEqual(code('PRECONDITION_REQUIRED'));
  });
});
