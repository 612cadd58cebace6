import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
// Native ESM jest (run with --experimental-vm-modules): sources are ESM TypeScript, transpiled by
// ts-jest without type checking (`npm test` type-checks everything with tsc first).
const project = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/${name}/__tests__/**/*.test.ts`],
  // The programs `npm test` fetched for the tests (.cache/tools.json) as the environment variables they read.
  setupFiles: ['<rootDir>/test/tools-env.cjs'],
  // The Backstage test host's install (test/backstage-host, prepared by npm test) is not part of the project.
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json', diagnostics: false }] },
});

// npm nests a copy of Material UI v4 under each Backstage frontend package (its peer range stops at React 17);
// each copy has its own theme context, and components of one do not see the theme of another. Resolve them all to
// the copy core-components uses, as an app's bundler dedupes them.
const requireFromCoreComponents = createRequire(
  createRequire(import.meta.url).resolve('@backstage/core-components/package.json'),
);
const materialUiCore = dirname(requireFromCoreComponents.resolve('@material-ui/core/package.json'));
const materialUiStyles = dirname(
  createRequire(join(materialUiCore, 'package.json')).resolve('@material-ui/styles/package.json'),
);

// The status card's unit tests: jsdom, and everything (Backstage's ESM-only packages too) through swc, as
// backstage-cli's own jest setup does, except the packages it also leaves alone.
const frontend = {
  displayName: 'frontend',
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/test/__tests__/frontend/**/*.test.tsx'],
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
  setupFiles: ['<rootDir>/test/__tests__/frontend/setup.cjs'],
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '\\.(svg|png|css)$': '<rootDir>/test/__tests__/frontend/asset-stub.cjs',
    '^@material-ui/core(/.*)?$': `${materialUiCore}$1`,
    '^@material-ui/styles(/.*)?$': `${materialUiStyles}$1`,
  },
  transform: {
    '^.+\\.(t|j|mj|cj)sx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', tsx: true },
          transform: { react: { runtime: 'automatic' } },
          target: 'es2022',
        },
      },
    ],
  },
  transformIgnorePatterns: [
    '/node_modules/(?:@material-ui|ajv|core-js|jest-.*|jsdom|knex|react|react-dom|highlight\\.js|prismjs|json-schema|react-use/lib|typescript)/',
  ],
};

export default {
  projects: [project('shared'), project('test'), frontend],
  // Most suites wait on the test API server's timers and sockets, not the CPU: more workers than cores
  // halve the run on a 2-core CI machine (measured: 242 s with the default one worker, 143 s with three).
  maxWorkers: 3,
  // The cluster tests wait for real behaviour of the test API server; on a busy machine a step can take
  // seconds. A wrong result still fails at once; only a hang waits this long. (Not a project option.)
  testTimeout: 30_000,
};
