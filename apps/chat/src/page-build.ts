import { fileURLToPath } from 'node:url';
import type { InlineConfig } from 'vite';

/** The page's sources (index.html, main.ts, styles.css). */
export const WEB_ROOT = fileURLToPath(new URL('./web/', import.meta.url));
/** Where `pnpm build` puts the built page. */
export const DIST_DIR = fileURLToPath(new URL('../dist/web/', import.meta.url));

/**
 * Vite's settings for the page. Workspace packages are bundled from their TypeScript sources
 * (the `source` export condition), so the page builds without building the packages first.
 */
export function viteConfig(extra: InlineConfig = {}): InlineConfig {
  return {
    configFile: false,
    root: WEB_ROOT,
    logLevel: 'warn',
    clearScreen: false,
    resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
    ...extra,
  };
}

/** Builds the page into `outDir` (default `dist/web`) with Vite; returns the folder. */
export async function buildPage(outDir: string = DIST_DIR): Promise<string> {
  const { build } = await import('vite');
  await build(viteConfig({ build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false } }));
  return outDir;
}
