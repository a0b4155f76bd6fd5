// Prints "N passed, N failed" from vitest's JSON report, so a run that executed no test is visible.
import { existsSync, readFileSync } from 'node:fs';

const path = process.argv[2] ?? '.reports/vitest.json';
if (!existsSync(path)) {
  console.log('0 passed, 0 failed');
  console.error(`no test report at ${path}: the test command failed before running tests`);
  process.exit(1);
}
const report = JSON.parse(readFileSync(path, 'utf8'));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(report.numFailedTests > 0 || report.numPassedTests === 0 ? 1 : 0);
