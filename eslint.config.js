// Lint: the recommended JavaScript and TypeScript rules, and no import cycles between our own modules
// (a cycle makes the load order decide which value a module sees). `npm run lint`; CI runs it.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/dist/', '**/lib/', '.cache/', 'coverage/', 'test/artifacts/', 'test/backstage-host/node_modules/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // A timer cleared by a callback that may run before the timer is set stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Errors are rewritten through the one redaction layer on purpose: the raw cause may carry a token.
      'preserve-caught-error': 'off',
    },
  },
  {
    // Tests read JSON answers by path.
    files: ['test/**', 'shared/__tests__/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/__tests__/frontend/**', 'plugins/loki-stack/**', 'test/browser/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
