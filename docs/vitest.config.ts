import { project } from '../vitest.shared.js';

export default project('docs', { include: ['*.test.ts'], testTimeout: 120_000 });
