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

describe('createEventListeners', () => {
  it('calls the on option’s listeners and later ones, each for its own event, until removed', () => {
    const { logger } = recordingLogger();
    const seen: string[] = [];
    const events = createEventListeners<Events>(
      { saved: ({ id }) => seen.push(`initial ${id}`) },
      logger,
      'store',
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
    const events = createEventListeners<Events>(undefined, logger, 'store');
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
});
