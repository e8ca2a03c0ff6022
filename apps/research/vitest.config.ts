import { project } from '../../vitest.shared.js';

export default project('app-research', { testTimeout: 120_000 });
