/**
 * The S3-compatible server for `pnpm bench backup`'s off-site round: the test suite's s3rver
 * (with its multipart patches) in its own process, so its memory is not counted as the
 * runner's. Prints one JSON line `{ endpoint, bucket }`, then serves until stdin closes (or a
 * signal), and removes its directory.
 * Not a benchmark by itself (no `.bench.ts` suffix).
 */
import { startS3Server } from '../packages/adapters/test/support/s3-server.js';

const server = await startS3Server();
process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint, bucket: server.bucket })}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.stdin.resume();
process.stdin.once('end', stop);
// A bench stopped with ^C must not leave the bucket's directory (a full dump) in /tmp.
process.once('SIGINT', stop).once('SIGTERM', stop);
