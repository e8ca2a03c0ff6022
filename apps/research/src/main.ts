/**
 * Runs one research job and prints every stage. Options:
 *   --topic "<text>"        what to research
 *   --max-parallel <n>      researchers at once (default 3)
 *   --scope-tokens <n>      the scope's daily token budget; a small one stops the job early
 */
import { parseArgs } from 'node:util';
import { createModel } from './model.js';
import { formatRun } from './print-report.js';
import { runResearch } from './run-research.js';

const { values } = parseArgs({
  options: {
    topic: { type: 'string', default: 'Should a household in central Europe replace its gas boiler with a heat pump?' },
    'max-parallel': { type: 'string', default: '3' },
    'scope-tokens': { type: 'string' },
  },
});

const { model, label } = await createModel();
console.log(`model: ${label}`);
const run = await runResearch({
  topic: values.topic,
  model,
  maxParallel: Number(values['max-parallel']),
  ...(values['scope-tokens'] !== undefined ? { scopeTokens: Number(values['scope-tokens']) } : {}),
});
console.log(formatRun(run));
