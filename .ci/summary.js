// Prints "N passed, N failed" from vitest's JSON report; exits 1 if anything failed or the report is missing.
const fs = require('node:fs');
const file = process.argv[2] || '.vitest-results.json';
let report;
try {
    report = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch {
    console.log('0 passed, 1 failed');
    process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// Suites that failed to load count as failures too: their tests never ran.
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || report.success === false ? 1 : 0);

function countSuitesWithFailedTests(r) {
    return (r.testResults ?? []).filter((s) => (s.assertionResults ?? []).some((a) => a.status === 'failed')).length;
}
