// Standing problems (collector errors, warnings) as both the daemon's log and `apply --quiet`
// see them: what began and what ended between two cycles, and the bounded record the state keeps.
import assert from 'node:assert/strict';
import { problemLines, REPORTED_KEPT, reportedKept, standingChanges } from '../../src/data/standing.js';

describe('standing problems', () => {
  it('a problem begins once, is quiet while it stands, and ends once', () => {
    const cycles = [[], ['a'], ['a', 'b'], ['a', 'b'], ['b'], []];
    const seen: string[] = [];
    let before: string[] = [];
    for (const keys of cycles) {
      const now = new Map(keys.map((k) => [k, k] as [string, string]));
      const { began, ended } = standingChanges(before, now);
      seen.push(...began.map(([k]) => `+${k}`), ...ended.map((k) => `-${k}`));
      before = [...now.keys()];
    }
    assert.deepEqual(seen, ['+a', '+b', '-a', '-b']);
  });

  it('keys a plan’s warnings and collector errors by their text, cut to a bounded length', () => {
    const lines = problemLines({ warnings: ['the process table could not be read', 'x'.repeat(2000)], errors: [{ source: 'supervisor:main', message: 'cannot reach supervisor "main"' }] });
    const keys = [...lines.keys()];
    assert.deepEqual(keys.slice(0, 1), ['warning: the process table could not be read']);
    assert.equal(keys[1]!.length, 500);
    assert.ok(keys[1]!.endsWith('…'));
    assert.equal(keys[2], 'error: supervisor:main: cannot reach supervisor "main"');
  });

  it('the state keeps at most REPORTED_KEPT of them', () => {
    const many = Array.from({ length: REPORTED_KEPT + 10 }, (_, i) => `warning: ${i}`);
    assert.deepEqual(reportedKept(many), many.slice(0, REPORTED_KEPT));
  });
});
