// A reader that goes away (`procguard snapshot | head -2`) ends procguard quietly, as it ends any
// Unix tool: no stack trace, no "internal error", and the exit status the verb would have had.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'UTC' };

type Closed = 'stdout at once' | 'stdout after its first output' | 'stderr at once';

interface ClosedRun {
  code: number | null;
  /** What reached the stream left open. */
  other: string;
}

/** Runs procguard with one of its output pipes closed by the reader, as `| head -1` or `2>&1 | true` do. */
function runWithClosedPipe(args: string[], closed: Closed): Promise<ClosedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let other = '';
    if (closed === 'stderr at once') {
      child.stderr.destroy();
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (other += chunk));
    } else {
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (other += chunk));
      if (closed === 'stdout at once') child.stdout.destroy();
      else child.stdout.once('data', () => child.stdout.destroy());
    }
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, other }));
  });
}

describe('a closed output pipe', function () {
  this.timeout(60000);
  let dir: string;
  let verbs: Array<[string, string[]]>;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'procguard-pipe-'));
    // A large output: thousands of lines, far more than a pipe's buffer holds.
    const oomAdjust = join(dir, 'oom_adjust.conf');
    await writeFile(oomAdjust, Array.from({ length: 4000 }, (_, i) => `pipeproc${i} -${i % 17}\n`).join(''));
    const invalid = join(dir, 'invalid.yaml');
    await writeFile(invalid, 'policies:\n  - { name: a, kind: oom, match: { name: sshd }, oom_score_adj: 5000 }\n');
    verbs = [
      ['--help', ['--help']],
      ['snapshot', ['snapshot']],
      ['snapshot --json', ['snapshot', '--json']],
      ['check --verbose', ['check', '-c', 'policies', '--verbose']],
      ['check --json', ['check', '-c', 'policies', '--json']],
      ['validate', ['validate', 'policies', 'examples']],
      ['validate of an invalid file', ['validate', '-c', invalid]],
      ['check of an invalid file (diagnostics on stderr)', ['check', '-c', invalid]],
      ['an unknown verb (usage on stderr)', ['frobnicate']],
      ['test', ['test', 'test/scenarios/test-pass-and-fail/tests']],
      ['import memmon', ['import', 'memmon', '--', '-p', 'web=200MB', '-m', 'ops@example.com']],
      ['import oom-adjust of 4000 lines', ['import', 'oom-adjust', oomAdjust]],
      ['status', ['status', '-c', 'policies', '--state-dir', join(dir, 'no-state')]],
      ['status --json', ['status', '-c', 'policies', '--state-dir', join(dir, 'no-state'), '--json']],
      ['history', ['history', '--state-dir', 'test/scenarios/history-table/state']],
    ];
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ends every verb quietly with its own exit status, whichever pipe closes and when', async () => {
    for (const [name, args] of verbs) {
      const open = await runProcguard(args, { cwd: ROOT, env: ENV });
      for (const closed of ['stdout at once', 'stdout after its first output', 'stderr at once'] as const) {
        const run = await runWithClosedPipe(args, closed);
        const where = `${name}, ${closed}: ${run.other}`;
        assert.equal(run.code, open.code, where);
        if (closed !== 'stderr at once') {
          assert.doesNotMatch(run.other, STACK_TRACE, where);
          assert.doesNotMatch(run.other, /internal error|EPIPE|cannot write/, where);
          assert.equal(run.other, open.stderr, where);
        }
      }
    }
  });
});
