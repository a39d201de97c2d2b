#!/usr/bin/env node
// Runs the vitest suite and ends with one plain summary line ("tests: N passed, N failed, N skipped")
// that CI reads. Extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

mkdirSync('.test-results', { recursive: true });
const out = '.test-results/vitest.json';
const r = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);
let summary = 'tests: no results were written';
try {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  summary = `tests: ${j.numPassedTests} passed, ${j.numFailedTests} failed, ${skipped} skipped`;
  if (j.numTotalTests === 0) {
    console.log(summary);
    console.error('No test ran.');
    process.exit(1);
  }
} catch {
  // vitest crashed before writing results; its exit code decides
}
console.log(summary);
process.exit(r.status ?? 1);
