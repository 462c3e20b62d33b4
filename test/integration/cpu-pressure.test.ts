// The cpu kind and the load kind's cpu_pressure source on this host's real processes, through
// `procguard apply` as cron runs it with its state directory: a real busy loop (run as an
// unprivileged user) measures above 80% of a core over two runs and is signalled; a real
// process is paused while the real CPU pressure is above a band set from the current reading.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineState, Plan } from '../../src/data/types.js';
import { readProcessState } from '../../src/host/proc.js';
import { dataValidator } from '../helpers/data-validators.js';
import { eventually, sleep } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { unprivilegedUser, type UnprivilegedUser } from '../helpers/unprivileged-user.js';

const USER = 'pgcpu2722';

/** CPU seconds (utime + stime) of a live process, from its stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function sinceBoot(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

/** The some avg10 of /proc/pressure/cpu. */
function cpuPressure(): number {
  const match = /^some avg10=([0-9.]+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
  return Number(match?.[1]);
}

describe('integration: cpu rates and cpu pressure on real processes', function () {
  this.timeout(120000);
  let user: UnprivilegedUser;
  let work: string;
  const spawned: ChildProcess[] = [];
  const validPlan = dataValidator('plan.schema.json');
  const validState = dataValidator('state.schema.json');

  /** A process of the unprivileged user, in its own process group, whose command line is unique to these tests. */
  const spawnAsUser = (script: string, tag: string): ChildProcess => {
    const child = spawn('/bin/sh', ['-c', script, tag], { uid: user.uid, gid: user.gid, detached: true, stdio: 'ignore' });
    spawned.push(child);
    return child;
  };

  before(async () => {
    user = unprivilegedUser(USER);
    work = await mkdtemp(join(tmpdir(), 'pg-cpu-'));
  });
  afterEach(() => {
    for (const child of spawned.splice(0)) {
      for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
        try {
          process.kill(-child.pid!, signal);
        } catch {
          // already gone
        }
      }
    }
  });
  after(() => rm(work, { recursive: true, force: true }));

  const apply = async (config: string): Promise<Plan> => {
    const run = await runProcguard(['apply', '-c', config, '--json']);
    assert.doesNotMatch(run.stderr + run.stdout, STACK_TRACE);
    assert.ok(run.code === 0 || run.code === 1, `apply exited ${run.code}: ${run.stderr}`);
    const plan = JSON.parse(run.stdout) as Plan;
    assert.ok(validPlan(plan), JSON.stringify(validPlan.errors));
    return plan;
  };

  it('a busy loop measures above 80% of a core over two apply runs, as its own /proc figures say, and is acted on', async () => {
    const stateDir = join(work, 'cpu-state');
    const config = join(work, 'cpu.yaml');
    await writeFile(
      config,
      `settings: { state_dir: ${stateDir} }
policies:
  - { name: busy-cpu, kind: cpu, match: { cmdline: "cpu-busy-27221$", user: ${USER} }, max_cpu: 80%, action: { signal: STOP } }
`,
    );
    const busy = spawnAsUser('while :; do :; done', 'cpu-busy-27221');
    const pid = busy.pid!;
    await eventually(() => readProcessState(pid) !== undefined, 5000, 'the busy loop to start');
    // The machine is shared: at the highest priority the loop gets a whole core whatever else
    // runs. With the scheduler's autogroups, a nice value counts only inside the loop's own
    // session (it has one to itself), so the session's weight is raised too.
    setPriority(pid, -20);
    if (existsSync(`/proc/${pid}/autogroup`)) writeFileSync(`/proc/${pid}/autogroup`, '-20');

    // Each run's reading lies between what this test reads of the loop just before and just after it.
    const before1 = { cpu: cpuSeconds(pid), clock: sinceBoot() };
    const first = await apply(config);
    const after1 = { cpu: cpuSeconds(pid), clock: sinceBoot() };
    assert.deepEqual(first.actions, []);
    assert.match((first.warnings ?? []).join('\n'), /policy "busy-cpu": measuring 1 target/);
    const state1 = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as EngineState;
    assert.ok(validState(state1), JSON.stringify(validState.errors));

    // The gap between the runs is counted in the loop's own CPU, not in wall-clock time.
    await eventually(() => cpuSeconds(pid) >= after1.cpu + 1, 60000, 'the busy loop to use another second of CPU');
    const before2 = { cpu: cpuSeconds(pid), clock: sinceBoot() };
    const second = await apply(config);
    await eventually(() => readProcessState(pid) === 'T', 5000, 'the busy loop to be stopped');
    const after2 = { cpu: cpuSeconds(pid), clock: sinceBoot() };

    assert.equal(second.actions.length, 1, JSON.stringify(second));
    const action = second.actions[0]!;
    assert.deepEqual([action.policy, action.kind, action.action, action.signal, action.status, action.target.pid], ['busy-cpu', 'cpu', 'signal', 'STOP', 'done', pid]);
    const rate = action.measure!.value;
    assert.equal(action.measure!.unit, 'percent');
    assert.match(action.reason, /^cpu \d+(\.\d)?% > 80% \(cycle 1 of 1\)$/);

    // What the loop's own figures allow, from the narrowest to the widest bracket of the two readings.
    const tick = 0.01;
    const lowest = ((before2.cpu - after1.cpu - tick) / (after2.clock - before1.clock + tick)) * 100;
    const highest = ((after2.cpu - before1.cpu + tick) / (before2.clock - after1.clock - tick)) * 100;
    assert.ok(rate >= lowest && rate <= highest, `measured ${rate}% outside what /proc allows: ${lowest}% to ${highest}%`);
    const couldGet = ((after2.cpu - before1.cpu) / (after2.clock - before1.clock)) * 100;
    assert.ok(rate > 80, `measured ${rate}% (the loop got ${couldGet}% between the first reading and the last)`);
    assert.ok(rate > 0.8 * couldGet, `measured ${rate}%, the loop got ${couldGet}%`);

    // The state keeps the last reading of the loop by pid and start time, with the steady clock.
    const state2 = JSON.parse(await readFile(join(stateDir, 'state.json'), 'utf8')) as EngineState;
    const reading = Object.values(state2.targets['busy-cpu'] ?? {})[0]?.cpu;
    assert.ok(reading?.since_boot !== undefined && reading.since_boot >= before2.clock - tick && reading.since_boot <= after2.clock + tick, JSON.stringify(reading));
    const [identity, cpuTime] = Object.entries(reading.processes)[0]!;
    assert.match(identity, new RegExp(`^${pid}:\\d+$`));
    assert.ok(cpuTime >= before2.cpu - tick && cpuTime <= after2.cpu + tick, `${cpuTime} against ${before2.cpu}..${after2.cpu}`);
  });

  it('a load policy on cpu_pressure pauses a real process while the pressure is above a band set from the current reading, and max_pause resumes it', async function () {
    const stateDir = join(work, 'pressure-state');
    const config = join(work, 'pressure.yaml');
    // Three loops on two cores keep a task waiting for a CPU: the pressure stays up while they run.
    for (let i = 0; i < 3; i += 1) spawnAsUser('while :; do :; done', `cpu-press-27222-${i}`);
    await eventually(() => cpuPressure() >= 10, 60000, 'cpu pressure (some avg10) to reach 10%');
    const target = spawnAsUser('exec sleep 27223', 'ignored');
    const pid = target.pid!;
    await eventually(() => readProcessState(pid) === 'S', 5000, 'the sleeper to start');

    const reading = cpuPressure();
    const pauseAbove = Math.max(1, Math.floor(reading / 2));
    await writeFile(
      config,
      `settings: { state_dir: ${stateDir} }
policies:
  - { name: press, kind: load, source: cpu_pressure, average: 10s, match: { cmdline: "^sleep 27223$", user: ${USER} }, pause_above: ${pauseAbove}, resume_below: ${pauseAbove / 2}, max_pause: 1s }
`,
    );
    const first = await apply(config);
    assert.equal(first.actions.length, 1, JSON.stringify(first));
    const pause = first.actions[0]!;
    assert.deepEqual([pause.policy, pause.action, pause.status, pause.target.pid], ['press', 'pause', 'done', pid]);
    assert.match(pause.reason, new RegExp(`^cpu pressure [0-9.]+% \\(some, 10s\\) > ${pauseAbove}%$`));
    assert.equal(pause.measure?.unit, 'percent');
    assert.ok(pause.measure!.value > pauseAbove);
    assert.equal(readProcessState(pid), 'T');

    // max_pause (1 s) ends the pause on the next run, whatever the pressure.
    await sleep(1100);
    const second = await apply(config);
    const resume = second.actions.find((a) => a.action === 'resume');
    assert.ok(resume, JSON.stringify(second));
    assert.deepEqual([resume.status, resume.target.pid], ['done', pid]);
    await eventually(() => readProcessState(pid) === 'S', 5000, 'the sleeper to run again');
  });
});
