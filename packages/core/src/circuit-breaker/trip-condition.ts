/**
 * When a closed circuit opens. Two ways, as cockatiel and Resilience4j offer: after N failures in
 * a row (simple, right for low traffic), or when the share of failed calls over a rolling window
 * reaches a ratio (right for high traffic, where a few failures among thousands of calls are
 * noise), counted only once the window has seen enough calls to mean something.
 */
import type { Clock } from '../clock/clock.js';
import { SlidingWindow } from '../clock/sliding-window.js';

/** Why a circuit opened. */
export type BreakReason = 'consecutive-failures' | 'failure-ratio' | 'probe-failed' | 'isolated';

/** Decides, call by call, whether the closed circuit should open. */
export interface TripCondition {
  readonly reason: BreakReason;
  success(): void;
  /** Records a failure; true when the circuit should open now. */
  failure(): boolean;
  reset(): void;
}

export class ConsecutiveFailures implements TripCondition {
  readonly reason = 'consecutive-failures';
  readonly #threshold: number;
  #count = 0;

  constructor(threshold: number) {
    this.#threshold = threshold;
  }

  success(): void {
    this.#count = 0;
  }

  failure(): boolean {
    this.#count++;
    return this.#count >= this.#threshold;
  }

  reset(): void {
    this.#count = 0;
  }
}

export class FailureRatio implements TripCondition {
  readonly reason = 'failure-ratio';
  readonly #threshold: number;
  readonly #minThroughput: number;
  readonly #window: SlidingWindow<'calls' | 'failures'>;

  constructor(clock: Clock, threshold: number, minThroughput: number, windowMs: number) {
    this.#threshold = threshold;
    this.#minThroughput = minThroughput;
    this.#window = new SlidingWindow(clock, windowMs, ['calls', 'failures']);
  }

  success(): void {
    this.#window.add('calls');
  }

  failure(): boolean {
    this.#window.add('calls');
    this.#window.add('failures');
    const calls = this.#window.total('calls');
    return (
      calls >= this.#minThroughput && this.#window.total('failures') / calls >= this.#threshold
    );
  }

  reset(): void {
    this.#window.clear();
  }
}
