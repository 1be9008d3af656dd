import { ballastBuild } from '../../tsup.preset';

export default ballastBuild({
  entry: {
    index: 'src/index.ts',
    'adapter-kit': 'src/adapter-kit/index.ts',
    testing: 'src/testing/index.ts',
  },
  esmModules: true,
});
