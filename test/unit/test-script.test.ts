import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { mergeResults, SERIAL, slowestFiles } from '../../scripts/test';

const ROOT = resolve(__dirname, '..', '..');

const part = (passed: number, failed: number, files: [string, number][]) => ({
  success: failed === 0,
  numTotalTests: passed + failed,
  numPassedTests: passed,
  numFailedTests: failed,
  numPendingTests: 0,
  numTodoTests: 0,
  numTotalTestSuites: files.length,
  numFailedTestSuites: failed > 0 ? 1 : 0,
  testResults: files.map(([name, seconds]) => ({
    name: resolve(ROOT, name),
    startTime: 1000,
    endTime: 1000 + seconds * 1000,
    status: 'passed',
  })),
});

describe('npm test (scripts/test.ts)', () => {
  it('names only test files that exist as the ones run alone, so none of them runs beside another by mistake', () => {
    expect(SERIAL.filter((file) => !existsSync(resolve(ROOT, file)))).toEqual([]);
    expect(SERIAL.every((file) => file.endsWith('.test.ts'))).toBe(true);
  });

  it("merges the two jest runs' results into the totals CI reads", () => {
    const merged = mergeResults([
      part(10, 0, [['test/unit/a.test.ts', 2]]),
      part(4, 1, [['test/integration/b.test.ts', 30]]),
    ]);
    expect(merged).toMatchObject({
      success: false,
      numTotalTests: 15,
      numPassedTests: 14,
      numFailedTests: 1,
      numTotalTestSuites: 2,
    });
    expect(merged.testResults).toHaveLength(2);
  });

  it('lists the slowest test files first, with their times', () => {
    const results = part(3, 0, [
      ['test/unit/a.test.ts', 2],
      ['test/integration/b.test.ts', 30.04],
      ['test/integration/c.test.ts', 7.5],
    ]);
    expect(slowestFiles(results, 2)).toEqual([
      '  30.0 s  test/integration/b.test.ts',
      '   7.5 s  test/integration/c.test.ts',
    ]);
  });
});
