/**
 * Every ```ts block in the READMEs and in docs/ is type-checked against the packages' sources;
 * blocks marked `// run` on their first line are also executed. A snippet that no longer
 * compiles fails this test, so the docs cannot drift from the code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const out = join(here, '.checked');

function markdownFiles(): string[] {
  const files = [join(root, 'README.md')];
  for (const dir of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, dir))) {
      const readme = join(root, dir, name, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  for (const name of readdirSync(here)) if (name.endsWith('.md')) files.push(join(here, name));
  return files;
}

interface Block {
  file: string;
  line: number;
  code: string;
  run: boolean;
}

function blocks(): Block[] {
  const found: Block[] = [];
  for (const file of markdownFiles()) {
    const lines = readFileSync(file, 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```ts\s*$/.test(lines[i]!)) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && !lines[end]!.startsWith('```')) end++;
      const code = lines.slice(start, end).join('\n');
      found.push({ file: relative(root, file), line: start + 1, code, run: code.trimStart().startsWith('// run') });
      i = end;
    }
  }
  return found;
}

describe('documentation code blocks', () => {
  const all = blocks();

  it('exist', () => {
    expect(all.length).toBeGreaterThan(5);
  });

  it('type-check', () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    all.forEach((b, i) => writeFileSync(join(out, `block-${i}.ts`), `// ${b.file}:${b.line}\nexport {};\n${b.code}\n`));
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.base.json', compilerOptions: { noEmit: true, rootDir: '.', noUnusedLocals: false, declaration: false, declarationMap: false, sourceMap: false }, include: ['*.ts'] }),
    );
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', join(out, 'tsconfig.json')], { encoding: 'utf8' });
    const report = (result.stdout + result.stderr).replace(/\S*block-(\d+)\.ts\((\d+),/g, (_m, n: string, line: string) => {
      const b = all[Number(n)]!;
      return `${b.file}:${b.line + Number(line) - 3} (`;
    });
    expect(report.trim(), report).toBe('');
    expect(result.status).toBe(0);
  });

  for (const [i, b] of all.entries()) {
    if (!b.run) continue;
    it(`runs ${b.file}:${b.line}`, () => {
      const file = join(out, `run-${i}.ts`);
      mkdirSync(out, { recursive: true });
      writeFileSync(file, `${b.code}\n`);
      const output = execFileSync(process.execPath, ['--conditions=source', '--import', 'tsx', file], { cwd: out, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      expect(output).not.toMatch(/Error/);
    });
  }
});
