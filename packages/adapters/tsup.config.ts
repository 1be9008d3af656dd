import { ballastBuild } from '../../tsup.preset';

export default ballastBuild({
  entry: {
    express: 'src/express/index.ts',
    fastify: 'src/fastify/index.ts',
    postgres: 'src/postgres/index.ts',
    s3: 'src/s3/index.ts',
    redis: 'src/redis/index.ts',
    fs: 'src/fs/index.ts',
    bullmq: 'src/bullmq/index.ts',
    cli: 'src/cli/bin.ts',
  },
});
