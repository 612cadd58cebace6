// `npm run test:unit`: the pure tests (spec, render, status model, CLI input) straight from the TypeScript sources,
// without a build: `loki-microservices` resolves to shared/src, so a test never runs a stale dist.
const PURE_TESTS = [
  'cross-reference',
  'install-scripts',
  'loki-config-keys',
  'monitoring',
  'network-policy',
  'pod-security',
  'render',
  'schemas',
  'secrets',
  'tls',
];

export default {
  displayName: 'unit',
  testEnvironment: 'node',
  testMatch: [
    '<rootDir>/shared/__tests__/**/*.test.ts',
    ...PURE_TESTS.map((name) => `<rootDir>/test/__tests__/${name}.test.ts`),
  ],
  modulePathIgnorePatterns: ['<rootDir>/.cache/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^loki-microservices$': '<rootDir>/shared/src/index.ts',
    '^loki-microservices/types$': '<rootDir>/shared/src/types.ts',
    '^loki-microservices/testing$': '<rootDir>/shared/src/testing.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json', diagnostics: false }] },
};
