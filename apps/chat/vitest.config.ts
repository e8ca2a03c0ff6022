import { project } from '../../vitest.shared.js';

export default project('app-chat', { testTimeout: 120_000 });
