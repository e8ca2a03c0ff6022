import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * Shared vitest settings for every package: tests import workspace packages from their
 * TypeScript sources (the `source` export condition), so no build is needed to test.
 */
export function project(name: string, extra: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] },
    ssr: { resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] } },
    test: {
      name,
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 30_000,
      ...extra,
    },
  });
}
