// Load: 10,000 processes against 1,000 policies of every kind that acts per process, evaluated
// once and compared, action by action, with what a plain loop over the same data says each
// policy must do. The fixture is built so that every rule of the plan (docs/formats.md, "The plan") is exercised at
// scale: limits on both sides, one disruptive action per process (the first policy wins),
// oom_score_adj only where it differs, audit mode.
import assert from 'node:assert/strict';
import { evaluate } from '../../src/engine/evaluate.js';
import { emptyState, type ProcessEntry } from '../../src/data/types.js';
import { MiB, policySetOf, T0 } from '../helpers/snapshots.js';

const GROUPS = 200;
const PER_GROUP = 10;
const SERVICES = 5000;
const SERVICE_NAMES = 500;
const JOBS = 3000;
const JOB_KINDS = 100;

function hostProcesses(): ProcessEntry[] {
  const processes: ProcessEntry[] = [
    { pid: 1, ppid: 0, name: 'init', rss: MiB, start_time: T0 - 86400, state: 'S' },
    { pid: 500, ppid: 1, name: 'supervisord', rss: 20 * MiB, start_time: T0 - 86400, state: 'S' },
  ];
  for (let g = 0; g < GROUPS; g += 1) {
    for (let j = 0; j < PER_GROUP; j += 1) {
      processes.push({
        pid: 1000 + g * PER_GROUP + j,
        ppid: 500,
        name: 'python3',
        cmdline: `/usr/bin/python3 -m app --name g${g}_p${j}`,
        rss: (j + 1) * 10 * MiB,
        start_time: T0 - 1000,
        state: 'S',
        supervisor: { server: 'main', group: `g${g}`, name: `g${g}_p${j}`, statename: 'RUNNING', start: T0 - 1000 },
      });
    }
  }
  for (let k = 0; k < SERVICES; k += 1) {
    processes.push({
      pid: 5000 + k,
      ppid: 1,
      name: `svc${k % SERVICE_NAMES}`,
      cmdline: `/usr/sbin/svc${k % SERVICE_NAMES} --id ${k}`,
      rss: 5 * MiB,
      start_time: T0 - 5000,
      state: 'S',
      oom_score_adj: k % 3 === 0 ? -500 : 0,
    });
  }
  for (let k = 0; k < JOBS - 2; k += 1) {
    processes.push({ pid: 20000 + k, ppid: 1, name: 'job', cmdline: `/opt/job${k % JOB_KINDS} --run ${k}`, rss: 50 * MiB, start_time: T0 - (60 * (k % 120) + 30), state: 'R' });
  }
  return processes;
}

/** Writes the 1,000 policies; they are read back through validation like any policy file. */
function policiesYaml(): string {
  const lines = ['policies:'];
  for (let g = 0; g < GROUPS; g += 1) lines.push(`  - { name: mem-prog-${g}, kind: memory, match: { program: "g${g}:*" }, max_rss: ${(g % 10) * 10 + 5}MB }`);
  for (let g = 150; g < 250; g += 1) lines.push(`  - { name: mem-group-${g}, kind: memory, match: { group: g${g} }, max_rss: 1MB, action: stop }`);
  for (let k = 0; k < SERVICE_NAMES; k += 1) lines.push(`  - { name: oom-svc-${k}, kind: oom, match: { name: svc${k} }, oom_score_adj: -500 }`);
  for (let k = 0; k < JOB_KINDS; k += 1) lines.push(`  - { name: rt-job-${k}, kind: runtime, match: { cmdline: "^/opt/job${k} " }, max_runtime: 1h, action: kill }`);
  for (let k = 0; k < 100; k += 1) lines.push(`  - { name: audit-${k}, kind: memory, mode: audit, match: { cmdline: "--id ${k}$" }, max_rss: 1MB, action: kill }`);
  return `${lines.join('\n')}\n`;
}

/** What each policy must do, worked out by a plain loop over the processes: "policy action pid status". */
function expectedActions(processes: readonly ProcessEntry[]): string[] {
  const expected: string[] = [];
  const disrupted = new Set<number>();
  const disrupt = (policy: string, action: string, pid: number, audit = false): void => {
    if (audit) expected.push(`${policy} ${action} ${pid} skipped`);
    else if (disrupted.has(pid)) expected.push(`${policy} ${action} ${pid} skipped`);
    else {
      disrupted.add(pid);
      expected.push(`${policy} ${action} ${pid} planned`);
    }
  };
  for (let g = 0; g < GROUPS; g += 1) {
    const limit = ((g % 10) * 10 + 5) * MiB;
    for (const p of processes) if (p.supervisor?.group === `g${g}` && (p.rss ?? 0) > limit) disrupt(`mem-prog-${g}`, 'restart', p.pid);
  }
  for (let g = 150; g < 250; g += 1) for (const p of processes) if (p.supervisor?.group === `g${g}`) disrupt(`mem-group-${g}`, 'stop', p.pid);
  for (let k = 0; k < SERVICE_NAMES; k += 1) {
    for (const p of processes) if (p.name === `svc${k}` && p.oom_score_adj !== -500) expected.push(`oom-svc-${k} set_oom_score_adj ${p.pid} planned`);
  }
  for (let k = 0; k < JOB_KINDS; k += 1) {
    for (const p of processes) if (p.cmdline?.startsWith(`/opt/job${k} `) && T0 - (p.start_time ?? T0) > 3600) disrupt(`rt-job-${k}`, 'kill', p.pid);
  }
  for (let k = 0; k < 100; k += 1) for (const p of processes) if (p.cmdline?.endsWith(`--id ${k}`)) disrupt(`audit-${k}`, 'kill', p.pid, true);
  return expected.sort();
}

describe('hardening: 10,000 processes × 1,000 policies', function () {
  this.timeout(120000);

  it('every action the plan holds, and only those, is what a plain loop over the data says', () => {
    const processes = hostProcesses();
    assert.equal(processes.length, 10000);
    const policySet = policySetOf(policiesYaml());
    assert.equal(policySet.policies.length, 1000);
    const { plan } = evaluate(policySet, { version: 1, time: T0, host: 'big', load: [1, 1, 1], processes }, emptyState(), T0);
    const actual = plan.actions.map((a) => `${a.policy} ${a.action} ${a.target.pid} ${a.status}`).sort();
    const expected = expectedActions(processes);
    // The fixture exercises each rule many times over.
    const count = (pattern: RegExp): number => expected.filter((line) => pattern.test(line)).length;
    assert.ok(count(/^mem-prog-\d+ restart \d+ planned$/) > 500);
    assert.ok(count(/^mem-group-\d+ stop \d+ skipped$/) > 100, 'a process already restarted by an earlier policy is skipped by a later one');
    assert.ok(count(/^mem-group-\d+ stop \d+ planned$/) > 50);
    assert.ok(count(/ set_oom_score_adj /) > 3000);
    assert.ok(count(/^rt-job-\d+ kill \d+ planned$/) > 1000);
    assert.equal(count(/^audit-/), 100);
    assert.equal(actual.length, expected.length);
    assert.deepEqual(actual, expected);
    // Reasons are there for every one: the limit, the cycle count, or what was first.
    for (const action of plan.actions) assert.ok(action.reason.length > 0, `${action.policy} has no reason`);
  });
});
