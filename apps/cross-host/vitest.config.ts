import { project } from '../../vitest.shared.js';

export default project('app-cross-host', { testTimeout: 120_000 });
