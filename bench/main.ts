// `npm run bench`: what one procguard cycle costs, beside what it replaces, in one table.
// Generated procfs trees give the scaling (processes × policies); the live host, raised to
// 1,000 processes under a real supervisord with 100 programs, gives the comparisons with
// ps, a bare /proc/*/stat loop, memmon's way and monit; then cold starts and a daemon run.
// Figures are medians. PROCGUARD_BENCH_QUICK=1 runs fewer repetitions; PROCGUARD_BENCH_ONLY=generated
// stops after the generated trees, PROCGUARD_BENCH_ONLY=crafted measures only crafted command lines,
// PROCGUARD_BENCH_ONLY=startup only the cold starts beside node -e 0.
// PROCGUARD_BENCH_ONLY=live only the live host's cycles, PROCGUARD_BENCH_ONLY=daemon only the
// daemon's 1,000 ticks on the live host (its RSS as the shipped unit runs it).
// PROCGUARD_BENCH_ONLY=hub only the hub over 500 simulated agents (bench/hub.ts).

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { collectSnapshot, joinSupervised } from '../src/collectors/collect.js';
import { fieldsNeeded } from '../src/engine/fields-needed.js';
import { ProcfsCollector } from '../src/collectors/procfs/procfs.js';
import { evaluate } from '../src/engine/evaluate.js';
import { emptyState, type EngineState, type Snapshot } from '../src/data/types.js';
import { parseMemmonArgs } from '../src/import/memmon-options.js';
import { loadConfig } from '../src/modes/config.js';
import { memmonPolicySet } from '../src/modes/memmon.js';
import type { PolicySet } from '../src/policy/model.js';
import { CRAFTED_CASES, repeatTo } from '../test/helpers/crafted-command-lines.js';
import type { FakeProcess } from '../test/helpers/procfs-tree.js';
import { PASSWORD, USERNAME, startSupervisord, type Supervisord } from '../test/helpers/supervisord.js';
import { generateHost, generatePolicies, writeHost, writePolicies, type GeneratedHost } from './fixtures.js';
import { alternatingFigures, alternatingMedians, cpuMsOf, median, medianMs, MIB } from './measure.js';
import { hubBench } from './hub.js';

const QUICK = process.env.PROCGUARD_BENCH_QUICK === '1';
/** PROCGUARD_BENCH_ONLY=generated measures the generated trees only, without supervisord or a live host; =crafted only the crafted command lines; =startup only the cold starts; =live only the live host's cycles; =daemon only the daemon run. */
const ONLY = process.env.PROCGUARD_BENCH_ONLY;
const RUNS = QUICK ? 5 : 15;
const PROCESS_COUNTS = [100, 1000, 10000];
const POLICY_COUNTS = [10, 100, 1000];
const LIVE_PROCESSES = 1000;
const PROGRAMS = 100;
/** The RSS target is set after 1,000 ticks, so even a quick run goes that far. */
const DAEMON_TICKS = 1000;
const DAEMON_INTERVAL_MS = 20;
const MONIT_SECONDS = QUICK ? 6 : 15;
const BIN = new URL('../bin/procguard.js', import.meta.url).pathname;
// @ts-expect-error: a plain ESM script without type declarations
const { bundle } = (await import('../scripts/bundle.mjs')) as { bundle: (options: { outdir: string; entryPoints: Record<string, string> }) => Promise<unknown> };
/** Generated trees' clock: three hours after their boot, so nothing is over its runtime. */
const NOW = 1795000000 + 3 * 3600;

const rows: string[][] = [];
const verdicts: string[] = [];
const line = (...cells: (string | number)[]): void => void rows.push(cells.map(String));
const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const ratio = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(0)}×`;
function target(what: string, ok: boolean, detail: string): void {
  verdicts.push(`${ok ? 'met   ' : 'MISSED'}  ${what}: ${detail}`);
}

/** Every pid directory's stat read with readFileSync: the floor for a Node process. */
function bareStatLoop(root = '/proc'): number {
  let bytes = 0;
  for (const entry of readdirSync(root)) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    try {
      bytes += readFileSync(`${root}/${entry}/stat`, 'utf8').length;
    } catch {
      // exited meanwhile
    }
  }
  return bytes;
}

/** collect + evaluate with the state carried over, as the daemon runs them. */
function cycleRunner(policySet: PolicySet, options: { root?: string; programs?: GeneratedHost['programs']; env?: NodeJS.ProcessEnv; now?: () => number }) {
  const table = new ProcfsCollector(options.root ? { root: options.root } : {});
  let state: EngineState = emptyState();
  return async (): Promise<Snapshot> => {
    const snapshot = await collectSnapshot(policySet, {
      env: options.env ?? {},
      processTable: table,
      ...(options.root ? { loadavgPath: `${options.root}/loadavg`, now: options.now ?? (() => NOW) } : {}),
      self: process.pid,
      secondPass: fieldsNeeded(policySet),
    });
    if (options.programs) snapshot.processes = joinSupervised(snapshot.processes, options.programs);
    const result = evaluate(policySet, snapshot, state, snapshot.time);
    state = result.state;
    return snapshot;
  };
}

async function policySetOf(dir: string): Promise<PolicySet> {
  const { config, messages } = await loadConfig([dir]);
  if (!config) throw new Error(`the generated policies do not load: ${messages.join('; ')}`);
  return config.policySet;
}

function liveProcessCount(): number {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).length;
}

async function generatedTrees(base: string): Promise<void> {
  const figures = new Map<string, number>();
  line('Cycle (collect + evaluate) on a generated procfs tree, ms', '', '', '', '', '');
  line('processes', 'bare stat loop', '10 policies', '100 policies', '1,000 policies', '100 policies ÷ bare');
  for (const count of PROCESS_COUNTS) {
    const host = generateHost(count);
    const root = await writeHost(host, join(base, `host-${count}`));
    const bare = await medianMs(() => bareStatLoop(root), { runs: RUNS });
    const cells: string[] = [];
    for (const policies of POLICY_COUNTS) {
      const policySet = await policySetOf(await writePolicies(join(base, `policies-${count}-${policies}`), generatePolicies(policies, count)));
      const cycle = await medianMs(cycleRunner(policySet, { root, programs: host.programs }), { runs: count >= 10000 ? Math.max(5, RUNS / 3) : RUNS });
      figures.set(`${count}/${policies}`, cycle);
      cells.push(ms(cycle));
    }
    figures.set(`${count}/bare`, bare);
    line(count.toLocaleString('en'), ms(bare), ...cells, ratio(figures.get(`${count}/100`)! / bare));
  }
  for (const policies of POLICY_COUNTS) {
    const growth = figures.get(`10000/${policies}`)! / figures.get(`1000/${policies}`)!;
    line(`10,000 ÷ 1,000 at ${policies} policies`, ratio(growth), '', '', '', '');
    target(`10,000 processes cost ≤ 10× 1,000 (${policies} policies)`, growth <= 10, ratio(growth));
  }
  const generatedRatio = figures.get('1000/100')! / figures.get('1000/bare')!;
  target('generated 1,000 processes × 100 policies ≤ 1.5× the bare stat loop', generatedRatio <= 1.5, ratio(generatedRatio));
}

/**
 * What crafted command lines cost: 100 processes whose command lines are 2 MiB built against
 * the ten cmdline patterns in force, beside the same cycle over ordinary command lines.
 */
async function craftedCommandLines(base: string): Promise<void> {
  const processes = 100;
  const length = 2 * MIB;
  const hostOf = (argv: (i: number) => string[]): FakeProcess[] => [
    { pid: 1, ppid: 0, comm: 'systemd', rssPages: 3000, startTicks: 100, argv: ['/sbin/init'] },
    ...Array.from({ length: processes }, (_, i): FakeProcess => ({ pid: 1000 + i, ppid: 1, comm: 'worker', rssPages: 2000, startTicks: 5000 + i, uid: 1000, argv: argv(i) })),
  ];
  const crafted = CRAFTED_CASES.map((c) => repeatTo(c.unit, length));
  const ordinaryRoot = await writeHost({ processes: hostOf((i) => CRAFTED_CASES[i % CRAFTED_CASES.length]!.ordinary.split(' ')), programs: [] }, join(base, 'host-ordinary-lines'));
  const craftedRoot = await writeHost({ processes: hostOf((i) => [crafted[i % crafted.length]!]), programs: [] }, join(base, 'host-crafted-lines'));
  const policies = CRAFTED_CASES.map((c, i) => ({ name: `cmdline-${i}`, kind: 'runtime', mode: 'audit', match: { cmdline: c.pattern }, max_runtime: '6h' }));
  const policySet = await policySetOf(await writePolicies(join(base, 'policies-cmdline'), policies));
  const ordinary = await medianMs(cycleRunner(policySet, { root: ordinaryRoot }), { runs: RUNS });
  const craftedCycle = await medianMs(cycleRunner(policySet, { root: craftedRoot }), { runs: QUICK ? 3 : 5 });
  line(`Cycle with ${CRAFTED_CASES.length} cmdline policies over ${processes} processes, ms`, '', '', '', '', '');
  line('ordinary command lines', ms(ordinary), '', '', '', '');
  line('command lines of 2 MiB crafted against the patterns', ms(craftedCycle), `+${ms(craftedCycle - ordinary)}`, '', '', '');
  target('crafted command lines cost ≤ 1 s more per cycle', craftedCycle - ordinary <= 1000, `+${ms(craftedCycle - ordinary)} ms`);
}

/** Sleeping processes until the host has `total`; killed at the end. */
function fillHost(total: number): ChildProcess[] {
  const fillers: ChildProcess[] = [];
  for (let i = liveProcessCount(); i < total; i += 1) {
    fillers.push(spawn('sleep', [String(100000 + i)], { stdio: 'ignore' }));
  }
  return fillers;
}

function programsConf(): string {
  const groups: string[] = [];
  for (let g = 0; g < PROGRAMS / 10; g += 1) {
    const names = Array.from({ length: 10 }, (_, p) => `g${g}_p${p}`);
    groups.push(`[group:g${g}]\nprograms=${names.join(',')}\n`);
    for (const name of names) groups.push(`[program:${name}]\ncommand=sleep ${700000 + g * 10 + Number(name.split('_p')[1])}\nstartsecs=0\nautorestart=false\n`);
  }
  return groups.join('\n');
}

/** memmon's tick: getAllProcessInfo, then one `ps -orss= -p PID` per running program. */
async function memmonTick(sv: Supervisord): Promise<void> {
  const infos = (await sv.client.call('supervisor.getAllProcessInfo')) as { pid: number }[];
  for (const info of infos) if (info.pid > 0) execFileSync('ps', ['-orss=', '-p', String(info.pid)]);
}

async function monitCpuPerCycle(base: string): Promise<number | undefined> {
  if (spawnSync('sh', ['-c', 'command -v monit']).status !== 0) return undefined;
  const rc = join(base, 'monitrc');
  const checks = Array.from({ length: PROGRAMS }, (_, i) => `check process p${i} matching "^sleep ${700000 + i}$"\n  if totalmem > 200 MB for 2 cycles then alert\n`);
  await writeFile(
    rc,
    `set daemon 1\nset log ${join(base, 'monit.log')}\nset idfile ${join(base, 'monit.id')}\nset statefile ${join(base, 'monit.state')}\nset pidfile ${join(base, 'monit.pid')}\n${checks.join('')}`,
    { mode: 0o600 },
  );
  const monit = spawn('monit', ['-c', rc, '-I'], { stdio: 'ignore' });
  try {
    await sleepMs(3000);
    const before = cpuMsOf(monit.pid!);
    const started = performance.now();
    await sleepMs(MONIT_SECONDS * 1000);
    const cpu = cpuMsOf(monit.pid!) - before;
    return cpu / ((performance.now() - started) / 1000);
  } finally {
    monit.kill('SIGTERM');
  }
}

interface DaemonFigures {
  rss: Map<number, number>;
  /** RSS less the node binary and libraries mapped from disk (shared by every node process). */
  anonymous: Map<number, number>;
  cpuPerTick: number;
}

/**
 * How the shipped systemd unit runs the daemon: the node options on its ExecStart line
 * (`ExecStart=/usr/bin/node FLAGS /usr/lib/procguard/procguard.js run …`) and the NODE_OPTIONS
 * of its Environment=, read from examples/systemd/procguard.service, so that the figures are
 * those of the daemon as installed.
 */
const SHIPPED_UNIT = readFileSync(new URL('../examples/systemd/procguard.service', import.meta.url), 'utf8');
const SHIPPED_NODE_FLAGS = (/^ExecStart=\S*\/node((?:\s+--\S+)*)\s+\S+\.js\s+run\b/m.exec(SHIPPED_UNIT)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
const SHIPPED_NODE_OPTIONS = /^Environment="?NODE_OPTIONS=([^"\n]*)"?$/m.exec(SHIPPED_UNIT)?.[1];
const SHIPPED_SETTINGS = [...SHIPPED_NODE_FLAGS, ...(SHIPPED_NODE_OPTIONS !== undefined ? [`NODE_OPTIONS=${SHIPPED_NODE_OPTIONS}`] : [])].join(' ') || 'none';
/** RSS is read after every tick; these windows give its level near tick 200 and at the end (medians). */
const EARLY_WINDOW = [176, 225] as const;
const LATE_WINDOW = [DAEMON_TICKS - 49, DAEMON_TICKS] as const;
/** "Flat": the end's level within this of tick 200's. */
const FLAT_BAND_MIB = 2;

/** The daemon as a server runs it: bench/daemon-child.ts bundled with procguard's bundler settings, in base. */
async function bundledDaemonChild(base: string): Promise<string> {
  const outdir = join(base, 'bundle');
  await bundle({ outdir, entryPoints: { 'daemon-child': 'bench/daemon-child.ts' } });
  return join(outdir, 'daemon-child.js');
}

async function daemonRun(child: string, configDir: string, env: NodeJS.ProcessEnv, nodeFlags: string[] = []): Promise<DaemonFigures> {
  const run = spawnSync(process.execPath, [...nodeFlags, child, configDir, String(DAEMON_TICKS), String(DAEMON_INTERVAL_MS)], {
    env,
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (run.status !== 0) throw new Error(`the daemon run failed (exit ${run.status}): ${run.stderr}`);
  const lines = run.stdout.trim().split('\n');
  const points = lines.map((text) => JSON.parse(text) as { cycles: number; rss: number; anonymous?: number; cpuMs?: number });
  const checkpoints = points.filter((p): p is Required<typeof p> => p.cpuMs !== undefined);
  const first = checkpoints.find((p) => p.cycles === 100) ?? checkpoints[0]!;
  const last = checkpoints.at(-1)!;
  return {
    rss: new Map(points.map((p) => [p.cycles, p.rss])),
    anonymous: new Map(checkpoints.map((p) => [p.cycles, p.anonymous])),
    cpuPerTick: (last.cpuMs - first.cpuMs) / (last.cycles - first.cycles),
  };
}

/** The median RSS over the ticks from..to (both included). */
function rssLevel(figures: DaemonFigures, [from, to]: readonly [number, number]): number {
  return median([...figures.rss].filter(([tick]) => tick >= from && tick <= to).map(([, rss]) => rss));
}

/**
 * Cold starts, whole process, each beside `node -e 0` measured in the same rounds (the runs
 * interleave, so a busy moment slows every command alike): medians, and their ratios to node.
 */
function coldStarts(commands: Record<string, string[] | { args: string[]; env: NodeJS.ProcessEnv }>): Record<string, number> {
  const names = Object.keys(commands);
  const times = new Map(names.map((name) => [name, [] as number[]]));
  for (let i = 0; i < (QUICK ? 7 : 21); i += 1) {
    for (const name of names) {
      const command = commands[name]!;
      const [args, env] = Array.isArray(command) ? [command, process.env] : [command.args, { ...process.env, ...command.env }];
      const started = performance.now();
      const run = spawnSync(process.execPath, args, { encoding: 'utf8', env });
      times.get(name)!.push(performance.now() - started);
      if (run.status === null || run.status > 1) throw new Error(`${name} failed (exit ${run.status}): ${run.stderr}`);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(times.get(name)!)]));
}

/** A 100-policy set and a snapshot of the generated 1,000-process host, for the cold starts. */
async function coldFixtures(base: string): Promise<{ policies: string; snapshot: string }> {
  const host = generateHost(1000);
  const root = await writeHost(host, join(base, 'cold-host'));
  const policies = await writePolicies(join(base, 'cold-policies'), generatePolicies(100, 1000));
  const snapshot = await cycleRunner(await policySetOf(policies), { root, programs: host.programs })();
  const file = join(base, 'cold-snapshot.json');
  await writeFile(file, JSON.stringify(snapshot));
  return { policies, snapshot: file };
}

async function coldStartTable(base: string): Promise<void> {
  const { policies, snapshot } = await coldFixtures(base);
  const figures = coldStarts({
    node: ['-e', '0'],
    version: [BIN, '--version'],
    validate: [BIN, 'validate', '-c', policies],
    check: [BIN, 'check', '--snapshot', snapshot, '-c', policies],
    // The same without the code cache (bundle/code-cache, written by each command's first run above).
    uncached: { args: [BIN, 'check', '--snapshot', snapshot, '-c', policies], env: { PROCGUARD_CODE_CACHE: '0' } },
  });
  const node = figures.node!;
  line('Cold start, whole process (the bundled build), ms', '', '', '', '', '');
  line('', 'ms', '÷ node -e 0', '', '', '');
  line('node -e 0', ms(node), '1.00×', '', '', '');
  line('procguard --version', ms(figures.version!), ratio(figures.version! / node), '', '', '');
  line('procguard validate (100 policies)', ms(figures.validate!), ratio(figures.validate! / node), '', '', '');
  line('procguard check --snapshot (100 policies, 1,000 processes)', ms(figures.check!), ratio(figures.check! / node), '', '', '');
  line('… the same with PROCGUARD_CODE_CACHE=0 (no code cache)', ms(figures.uncached!), ratio(figures.uncached! / node), '', '', '');
  target('procguard --version ≤ 1.3× node -e 0', figures.version! <= 1.3 * node, `${ms(figures.version!)} vs ${ms(node)} ms (${ratio(figures.version! / node)})`);
  target('cold check --snapshot ≤ 2× node -e 0', figures.check! <= 2 * node, `${ms(figures.check!)} vs ${ms(node)} ms (${ratio(figures.check! / node)})`);
}

function sleepMs(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
}

function printTable(): void {
  const isHeading = (row: string[]): boolean => row.slice(1).every((cell) => cell === '');
  const widths = rows[1]!.map((_, column) => Math.max(...rows.filter((r) => !isHeading(r)).map((r) => (r[column] ?? '').length)));
  for (const row of rows) {
    if (isHeading(row)) {
      process.stdout.write(`\n${row[0]}\n`);
      continue;
    }
    process.stdout.write(`${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join('  ')}\n`);
  }
}

/** The daemon run as the shipped unit runs it, beside the same daemon with node's defaults. */
async function daemonTable(base: string, liveDir: string, liveEnv: NodeJS.ProcessEnv): Promise<void> {
  process.stderr.write(`bench: ${DAEMON_TICKS} daemon ticks at ${DAEMON_INTERVAL_MS} ms\n`);
  const plainEnv: NodeJS.ProcessEnv = { ...process.env, ...liveEnv };
  delete plainEnv.NODE_OPTIONS;
  const child = await bundledDaemonChild(base);
  const daemon = await daemonRun(child, liveDir, { ...plainEnv, ...(SHIPPED_NODE_OPTIONS !== undefined ? { NODE_OPTIONS: SHIPPED_NODE_OPTIONS } : {}) }, SHIPPED_NODE_FLAGS);
  const plainDaemon = await daemonRun(child, liveDir, plainEnv);
  const monit = await monitCpuPerCycle(base);
  const mib = (bytes: number | undefined): string => `${((bytes ?? NaN) / MIB).toFixed(1)}`;
  const window = ([from, to]: readonly [number, number]): string => `ticks ${from}–${to}`;
  line(`Daemon (procguard run, 100 policies, live host), node settings as the shipped unit runs it: ${SHIPPED_SETTINGS}`, '', '', '', '', '');
  line('', 'tick 1', 'tick 100', `${window(EARLY_WINDOW)}`, `${window(LATE_WINDOW)}`, `max of ${window(LATE_WINDOW)}`);
  const lateMax = (figures: DaemonFigures): number => Math.max(...[...figures.rss].filter(([tick]) => tick >= LATE_WINDOW[0]).map(([, rss]) => rss));
  line('RSS (median of the window), MiB', mib(daemon.rss.get(1)), mib(daemon.rss.get(100)), mib(rssLevel(daemon, EARLY_WINDOW)), mib(rssLevel(daemon, LATE_WINDOW)), mib(lateMax(daemon)));
  line(
    '… of it anonymous (not the node binary), MiB, at tick 1, 100, 200, 1,000',
    mib(daemon.anonymous.get(1)),
    mib(daemon.anonymous.get(100)),
    mib(daemon.anonymous.get(200)),
    mib(daemon.anonymous.get(DAEMON_TICKS)),
    '',
  );
  line(
    "RSS with node's defaults, MiB",
    mib(plainDaemon.rss.get(1)),
    mib(plainDaemon.rss.get(100)),
    mib(rssLevel(plainDaemon, EARLY_WINDOW)),
    mib(rssLevel(plainDaemon, LATE_WINDOW)),
    mib(lateMax(plainDaemon)),
  );
  line('CPU per tick, ms', ms(daemon.cpuPerTick), `defaults: ${ms(plainDaemon.cpuPerTick)}`, monit === undefined ? 'monit not installed' : `monit ${ms(monit)}`, '', '');
  if (monit !== undefined) target('daemon CPU per cycle ≤ ½ monit', daemon.cpuPerTick <= monit / 2, `${ms(daemon.cpuPerTick)} vs ${ms(monit)} ms`);
  const early = rssLevel(daemon, EARLY_WINDOW) / MIB;
  const late = rssLevel(daemon, LATE_WINDOW) / MIB;
  const growth = late - early;
  target(
    `daemon RSS ≤ 55 MiB after ${DAEMON_TICKS} ticks and flat (within ${FLAT_BAND_MIB} MiB of tick 200's)`,
    late <= 55 && Math.abs(growth) <= FLAT_BAND_MIB,
    `${late.toFixed(1)} MiB (median of ${window(LATE_WINDOW)}; max ${mib(lateMax(daemon))}), ${growth >= 0 ? '+' : '−'}${Math.abs(growth).toFixed(1)} MiB from ${window(EARLY_WINDOW)} (${early.toFixed(1)} MiB)`,
  );
}

async function main(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'procguard-bench-'));
  process.stderr.write(`bench: working in ${base}\n`);
  const fillers: ChildProcess[] = [];
  let sv: Supervisord | undefined;
  try {
    if (ONLY === 'hub') {
      await hubBench(base, { line, target, quick: QUICK });
      process.stdout.write(`procguard benchmark — ${machine()}\n`);
      printTable();
      process.stdout.write(`\nTargets\n${verdicts.join('\n')}\n`);
      return;
    }
    if (ONLY === 'startup') {
      await coldStartTable(base);
      process.stdout.write(`procguard benchmark — ${machine()}\n`);
      printTable();
      process.stdout.write(`\nTargets\n${verdicts.join('\n')}\n`);
      return;
    }
    if (ONLY !== 'crafted' && ONLY !== 'live' && ONLY !== 'daemon') await generatedTrees(base);
    if (ONLY !== 'live' && ONLY !== 'daemon') await craftedCommandLines(base);
    if (ONLY === 'generated' || ONLY === 'crafted') {
      process.stdout.write(`procguard benchmark — ${machine()}\n`);
      printTable();
      process.stdout.write(`\nTargets\n${verdicts.join('\n')}\n`);
      return;
    }

    process.stderr.write('bench: starting supervisord with 100 programs and filling the host to 1,000 processes\n');
    sv = await startSupervisord(programsConf());
    fillers.push(...fillHost(LIVE_PROCESSES));
    await sleepMs(1000);
    const liveCount = liveProcessCount();
    const env = { SUPERVISOR_SERVER_URL: sv.unixUrl, SUPERVISOR_USERNAME: USERNAME, SUPERVISOR_PASSWORD: PASSWORD };
    const liveDir = join(base, 'live-policies');
    await writePolicies(liveDir, generatePolicies(100, LIVE_PROCESSES));
    await writeFile(join(liveDir, 'supervisors.yaml'), `supervisors:\n  default: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\n`);
    const livePolicies = await policySetOf(liveDir);
    const liveEnv = { SV_PASSWORD: PASSWORD };
    if (ONLY === 'daemon') {
      await daemonTable(base, liveDir, liveEnv);
      process.stdout.write(`procguard benchmark — ${machine()}\n`);
      printTable();
      process.stdout.write(`\nTargets\n${verdicts.join('\n')}\n`);
      return;
    }
    // The cycle and the bare loop in turn, so that both see the same load on a shared machine.
    const [cycleFigures, bareFigures] = await alternatingFigures([cycleRunner(livePolicies, { env: liveEnv }), () => bareStatLoop()], RUNS);
    const [cycle, bare] = [cycleFigures!.wall, bareFigures!.wall];
    const supervised = (await cycleRunner(livePolicies, { env: liveEnv })()).processes.filter((p) => p.supervisor && p.pid > 0).length;
    const ps = await medianMs(() => execFileSync('ps', ['-eo', 'pid,ppid,rss,etimes,comm'], { maxBuffer: 16 << 20 }), { runs: RUNS });
    const memmonOptions = parseMemmonArgs(['-a', '200MB']);
    const memmonSet = await memmonPolicySet(memmonOptions, ['-a', '200MB']);
    if (!('policySet' in memmonSet)) throw new Error(memmonSet.errors.join('; '));
    const dropIn = await medianMs(cycleRunner(memmonSet.policySet, { env }), { runs: RUNS });
    const memmon = await medianMs(() => memmonTick(sv!), { runs: QUICK ? 3 : 5, warmup: 1 });

    line(`Live host: ${liveCount.toLocaleString('en')} processes, ${supervised} programs under supervisord (unix socket), 100 policies, ms`, '', '', '', '', '');
    line('', 'ms', 'procguard ÷ it', '', '', '');
    line('procguard cycle (XML-RPC + /proc + evaluate)', ms(cycle), '1.00×', '', '', '');
    line('ps -eo pid,ppid,rss,etimes,comm', ms(ps), ratio(cycle / ps), '', '', '');
    line('bare /proc/*/stat loop', ms(bare), ratio(cycle / bare), '', '', '');
    line("… CPU of this process only (supervisord's own not counted)", `${ms(cycleFigures!.cpu)} / ${ms(bareFigures!.cpu)}`, ratio(cycleFigures!.cpu / bareFigures!.cpu), '', '', '');
    line('procguard memmon -a 200MB tick', ms(dropIn), '', '', '', '');
    line("memmon's way (ps -orss= -p PID × 100)", ms(memmon), ratio(dropIn / memmon), '', '', '');
    target('live cycle ≤ ½ ps -eo', cycle <= ps / 2, `${ms(cycle)} vs ${ms(ps)} ms (${ratio(cycle / ps)})`);
    target('live cycle ≤ 1.5× the bare stat loop', cycle <= bare * 1.5, `${ms(cycle)} vs ${ms(bare)} ms (${ratio(cycle / bare)})`);
    target("memmon drop-in tick ≥ 50× faster than memmon's way", memmon / dropIn >= 50, `${ratio(memmon / dropIn)} faster`);

    // The same cycle with one more policy, max_pss over every supervised program, measured in
    // turn with the plain cycle. Its limit below every program's RSS has smaps_rollup read for
    // each of them (the worst case); one above their RSS reads none (PSS is never above RSS).
    const pssPolicySet = async (name: string, limit: string): Promise<PolicySet> => {
      const dir = join(base, name);
      await writePolicies(dir, [...generatePolicies(100, LIVE_PROCESSES), { name: 'pss-all', kind: 'memory', mode: 'audit', match: { program: '*' }, max_pss: limit }]);
      await writeFile(join(dir, 'supervisors.yaml'), `supervisors:\n  default: { url: "${sv!.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\n`);
      return policySetOf(dir);
    };
    const pssAll = await pssPolicySet('live-policies-pss-all', '1KB');
    const pssNone = await pssPolicySet('live-policies-pss-none', '1GB');
    const [plainAgain, withPss, withPssWithin] = (await alternatingMedians(
      [cycleRunner(livePolicies, { env: liveEnv }), cycleRunner(pssAll, { env: liveEnv }), cycleRunner(pssNone, { env: liveEnv })],
      RUNS,
    )) as [number, number, number];
    const pssRead = (await cycleRunner(pssAll, { env: liveEnv })()).processes.filter((p) => p.pss !== undefined).length;
    line('The same cycle with a max_pss policy over every program, ms', '', '', '', '', '');
    line('', 'ms', 'added', '', '', '');
    line('without it', ms(plainAgain), '', '', '', '');
    const added = (value: number): string => `${value < 0 ? '−' : '+'}${ms(Math.abs(value))}`;
    line(`limit below their RSS (smaps_rollup of ${pssRead} processes read)`, ms(withPss), added(withPss - plainAgain), '', '', '');
    line('limit above their RSS (none read)', ms(withPssWithin), added(withPssWithin - plainAgain), '', '', '');
    target(
      'a max_pss policy over 100 supervised programs adds ≤ 10 ms to a live cycle',
      withPss - plainAgain <= 10,
      `${added(withPss - plainAgain)} ms with every smaps_rollup read (${ms(plainAgain)} → ${ms(withPss)})`,
    );
    if (ONLY === 'live') {
      process.stdout.write(`procguard benchmark — ${machine()}\n`);
      printTable();
      process.stdout.write(`\nTargets\n${verdicts.join('\n')}\n`);
      return;
    }

    await daemonTable(base, liveDir, liveEnv);

    await coldStartTable(base);

    await hubBench(base, { line, target, quick: QUICK });

    process.stdout.write(`procguard benchmark — ${machine()}\n`);
    printTable();
    process.stdout.write(`\nTargets\n${verdicts.join('\n')}\n`);
  } finally {
    for (const filler of fillers) filler.kill('SIGKILL');
    await sv?.stop();
    if (process.env.PROCGUARD_BENCH_KEEP) process.stderr.write(`bench: kept ${base}\n`);
    else await rm(base, { recursive: true, force: true });
  }
}

await main();
