import { describe, expect, it } from 'vitest';
import { markStatement } from './inbox-one-trip.js';

describe('markStatement', () => {
  it('inlines printable ASCII with its quotes doubled', () => {
    expect(markStatement('"ballast_inbox"', 'billing', "evt-1'); DROP TABLE x; --")).toBe(
      `INSERT INTO "ballast_inbox" (consumer, event_id) VALUES ('billing', 'evt-1''); DROP TABLE x; --')`,
    );
  });

  it.each([
    ['a backslash', 'evt\\1'],
    ['a newline', 'evt\n1'],
    ['a non-ASCII character', 'évt-1'],
    ['a NUL', 'evt\u00001'],
    ['nothing', ''],
  ])('refuses to inline %s (the mark then goes with parameters)', (_name, eventId) => {
    expect(markStatement('"ballast_inbox"', 'billing', eventId)).toBeUndefined();
    expect(markStatement('"ballast_inbox"', eventId, 'evt-1')).toBeUndefined();
  });
});
