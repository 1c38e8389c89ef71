// Lint rules, including the module boundaries: a module is entered only through its contract.ts,
// and platform/ knows no business module and no role.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const MODULES = ['exchange', 'generator', 'echo', 'calculator', 'auth', 'transaction', 'psp', 'master-child'];

// A library's non-public parts are reached only through src/platform/internals/ (docs/internals.md), where each use
// is checked at boot. class-transformer is not used at all: the compiled validators assume no DTO has its decorators.
const PRIVATE_LIBRARY_PATHS = [
  {
    regex: '^@nestjs/[^/]+/.+',
    message: "Nest's deep paths are not its public API: go through src/platform/internals/ (docs/internals.md).",
  },
  {
    regex: '^class-transformer(/|$)',
    message: 'DTOs are plain class-validator classes: class-transformer is not a dependency of the platform.',
  },
];

const PLATFORM_BOUNDARY = [
  { regex: '(^|/)modules/', message: 'platform/ must not import any business module.' },
  { regex: '(^|/)roles/', message: 'platform/ knows no role: hand role knowledge in from roles/.' },
];

const moduleBoundaries = MODULES.map((name) => ({
  files: [`src/modules/${name}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...MODULES.filter((other) => other !== name).map((other) => ({
            regex: `^(\\.\\./)+(modules/)?${other}/(?!contract\\.js$)`,
            message: `Import the ${other} module only through its contract.ts.`,
          })),
          ...PRIVATE_LIBRARY_PATHS,
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'dist-dev/', 'dist-bench/', 'dist-tools/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      // TypeORM's entity and migration lists are typed with Function.
      '@typescript-eslint/no-unsafe-function-type': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through the validated config object, not process.env.',
        },
      ],
    },
  },
  {
    // The console's page runs in the browser.
    files: ['src/roles/console/ui/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'fetch', 'EventSource', 'URL', 'FormData', 'setTimeout', 'clearTimeout'].map((g) => [
          g,
          'readonly',
        ]),
      ),
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: PRIVATE_LIBRARY_PATHS }] },
  },
  ...moduleBoundaries,
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [...PLATFORM_BOUNDARY, ...PRIVATE_LIBRARY_PATHS] },
      ],
    },
  },
  {
    // The one place a library's non-public parts are imported, each use checked (docs/internals.md).
    files: ['src/platform/internals/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: PLATFORM_BOUNDARY }] },
  },
  {
    // The config loader, tests, benchmarks and tooling are the places that may read the raw environment.
    files: ['src/platform/config/**/*.ts', 'test/**/*.ts', 'test/**/*.mjs', 'bench/**/*.ts', 'bench/**/*.mjs', '*.js', 'docker/**/*.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
