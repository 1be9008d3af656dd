import fc from 'fast-check';

// Property tests explore new random inputs on every local run, where a counterexample is a
// finding to fix. CI runs them from a fixed seed so that a landing is decided by the code, not
// by the draw; set FAST_CHECK_SEED to replay a counterexample reported locally.
const seed = process.env.FAST_CHECK_SEED ?? (process.env.CI === 'true' ? '20261123' : undefined);
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) });
