// Native ESM jest (run with --experimental-vm-modules): sources are ESM TypeScript, transpiled by
// ts-jest without type checking (`npm test` type-checks everything with tsc first).
const project = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/${name}/__tests__/**/*.test.ts`],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json', diagnostics: false }] },
});

export default {
  projects: [project('shared'), project('test')],
  // Most suites wait on the test API server's timers and sockets, not the CPU: more workers than cores
  // halve the run on a 2-core CI machine (measured: 242 s with the default one worker, 143 s with three).
  maxWorkers: 3,
  // The cluster tests wait for real behaviour of the test API server; on a busy machine a step can take
  // seconds. A wrong result still fails at once; only a hang waits this long. (Not a project option.)
  testTimeout: 30_000,
};
