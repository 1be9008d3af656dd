import { describe, expect, it } from 'vitest';
import { createEventListeners } from './event-listeners.js';
import type { Logger } from './logger.js';

interface Events {
  saved: (value: { id: string }) => void;
  failed: (value: { error: unknown }) => void;
}

function recordingLogger() {
  const warnings: Array<{ fields: Record<string, unknown>; message: string | undefined }> = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (fields, message) => warnings.push({ fields, message }),
    error: () => {},
  };
  return { logger, warnings };
}

const names = { saved: true, failed: true } as const;

describe('createEventListeners', () => {
  it('calls the on option’s listeners and later ones, each for its own event, until removed', () => {
    const { logger } = recordingLogger();
    const seen: string[] = [];
    const events = createEventListeners<Events>(
      { saved: ({ id }) => seen.push(`initial ${id}`) },
      logger,
      'store',
      names,
    );
    const off = events.on('saved', ({ id }) => seen.push(`later ${id}`));
    events.emit('saved', { id: 'a' });
    events.emit('failed', { error: new Error('x') });
    off();
    events.emit('saved', { id: 'b' });
    expect(seen).toEqual(['initial a', 'later a', 'initial b']);
  });

  it('logs a listener that throws and still calls the others', () => {
    const { logger, warnings } = recordingLogger();
    const events = createEventListeners<Events>(undefined, logger, 'store', names);
    const seen: string[] = [];
    events.on('saved', () => {
      throw new Error('listener bug');
    });
    events.on('saved', ({ id }) => seen.push(id));
    expect(() => events.emit('saved', { id: 'a' })).not.toThrow();
    expect(seen).toEqual(['a']);
    expect(warnings).toEqual([
      {
        fields: { err: expect.objectContaining({ message: 'listener bug' }), event: 'saved' },
        message: 'store: saved listener threw; ignored',
      },
    ]);
  });

  it('refuses an unknown event or a listener that is not a function with INVALID_OPTIONS naming on()', () => {
    const { logger } = recordingLogger();
    const events = createEventListeners<Events>(undefined, logger, 'store', names);
    // A misspelt event was subscribed to silently and never called: an alert that never fires.
    expect(() => events.on('saveed' as never, (() => {}) as never)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('store.on()'),
      }),
    );
    expect(() => events.on('saved', 'page the on-call' as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => events.on('toString' as never, (() => {}) as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
