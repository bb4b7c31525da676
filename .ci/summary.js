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
// A test file that failed without a failed test (it did not load, or a hook threw) counts as one failure: its tests
// never ran. vitest's numFailedTestSuites is not used: it counts describe blocks too, so one failed test inside a
// describe would count twice.
const failed = (report.numFailedTests ?? 0) + filesFailedWithoutFailedTests(report);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 || report.success === false ? 1 : 0);

function filesFailedWithoutFailedTests(r) {
    return (r.testResults ?? []).filter((s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed')).length;
}
