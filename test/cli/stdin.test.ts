// `-c -` and `validate -`: policies piped in, named <stdin> in diagnostics, bounded as a file is.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';

function runWithInput(args: string[], input: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.on('error', () => undefined); // procguard stops reading past 1 MiB
    child.stdin.end(input);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const VALID = 'policies:\n  - { name: oom-stdin, kind: oom, match: { name: stdin19sm }, oom_score_adj: 5 }\n';
const INVALID = 'policies:\n  - { name: a, kind: oom, match: { name: stdin19sm }, oom_score_adj: 5000 }\n';

describe('policies on standard input', function () {
  this.timeout(30000);

  it('validate -c - reports problems at <stdin>:LINE:COL, exit 2', async () => {
    const run = await runWithInput(['validate', '-c', '-'], INVALID);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, '<stdin>:2:70: error: "oom_score_adj" in policy "a" must be between -1000 and 1000, not 5000\n<stdin>: invalid: 1 error in 1 file\n');
  });

  it('validate - checks them on their own, exit 0', async () => {
    const run = await runWithInput(['validate', '-'], VALID);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout, '<stdin>: valid: 1 policy (oom 1), 0 supervisors, 0 notifiers in 1 file\n');
  });

  it('validate -c - - reads standard input once for both', async () => {
    const run = await runWithInput(['validate', '-c', '-', '-'], VALID);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.stdout.split('\n').filter((line) => line.startsWith('<stdin>: valid: 1 policy')).length, 2, run.stdout);
  });

  it('check -c - evaluates them', async () => {
    const run = await runWithInput(['check', '-c', '-'], VALID);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /; 1 policy\n/);
  });

  it('more than 1 MiB is refused as a file would be', async () => {
    const run = await runWithInput(['validate', '-c', '-'], `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '<stdin>:1:1: error: Policy file <stdin> is larger than 1 MiB\n<stdin>: invalid: 1 error in 0 files\n');
  });

  it('run -c - is refused at start (its stdin cannot be read again on reload), exit 2', async () => {
    const run = await runWithInput(['run', '-c', '-'], VALID);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /<stdin>:1:1: error: Standard input \(-\) cannot hold the policies of this command: name a file or directory/);
    assert.doesNotMatch(run.stderr, STACK_TRACE);
  });
});
