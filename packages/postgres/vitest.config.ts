import { project } from '../../vitest.shared.js';

// PGlite compiles its WASM engine on start: seconds on a busy machine, so hooks get more time.
const base = project('postgres', { testTimeout: 30_000, hookTimeout: 120_000 });
// Workspace sources load through the `source` condition as everywhere. The shared list also names
// `import`, which the test runner hands on to Node for packages it loads natively; `pg` (CommonJS)
// would then `require()` the ESM build of its dual dependency `pg-pool` and break. Vite applies
// `import`/`require` by itself, so it is left out here.
const conditions = ['source', 'module', 'node', 'default'];

export default {
  ...base,
  resolve: { ...base.resolve, conditions },
  ssr: { ...base.ssr, resolve: { ...base.ssr?.resolve, conditions } },
};
