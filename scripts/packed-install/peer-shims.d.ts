// ioredis's declarations import 'redis-errors', which ships no types; with skipLibCheck off
// (so Ballast's own .d.ts files are checked) that is an error in ioredis, not in Ballast.
declare module 'redis-errors';
