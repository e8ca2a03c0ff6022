import { buildPage } from './page-build.js';

const outDir = await buildPage();
console.log(`page built into ${outDir}`);
