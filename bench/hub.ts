// The hub at scale: `procguard hub` (the built CLI, alone in its process) over 500 simulated
// agents on 127.0.0.1 with 100 programs each, 5% answering after a second and 2% down. One
// poll round's time (read from the hub's /metrics), the hub's RSS, the page for all 500 hosts
// and /api/fleet; then what answering /api/status costs a real agent (`procguard run --listen`
// over a real supervisord with 100 programs), beside supervisord's own getAllProcessInfo over
// the same programs, which is what dashboards that poll supervisord directly ask for.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PASSWORD, USERNAME, startSupervisord, type Supervisord } from '../test/helpers/supervisord.js';
import { cpuMsOf, median, medianMs, MIB, rssOf } from './measure.js';

const BIN = new URL('../bin/procguard.js', import.meta.url).pathname;
export const HUB_AGENTS = 500;
const PROGRAMS = 100;
const SLOW_EVERY = 20; // 5%
const DOWN_EVERY = 50; // 2%
const SLOW_MS = 1000;
const ROUNDS = 5;

export interface Report {
  line(...cells: (string | number)[]): void;
  target(what: string, ok: boolean, detail: string): void;
  quick: boolean;
}

const ms = (value: number): string => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

function spawnLogged(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, PROCGUARD_LOG_FORMAT: 'json' }, stdio: ['ignore', 'ignore', 'pipe'] });
  const url = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stderr! });
    lines.on('line', (text) => {
      try {
        const event = JSON.parse(text) as { event?: string; url?: string };
        if (event.event === 'listen' && event.url) resolve(event.url);
      } catch {
        // not a log line
      }
    });
    child.once('exit', (code) => reject(new Error(`procguard ${args[0]} exited (${code})`)));
  });
  return { child, url };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Round durations as the hub's histogram records them: one per increment of its count. */
async function roundDurations(url: string, rounds: number): Promise<number[]> {
  const durations: number[] = [];
  let last = { count: 0, sum: 0 };
  while (durations.length < rounds) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const count = Number(/^procguard_hub_poll_round_duration_seconds_count (\S+)$/m.exec(text)?.[1] ?? 0);
    const sum = Number(/^procguard_hub_poll_round_duration_seconds_sum (\S+)$/m.exec(text)?.[1] ?? 0);
    if (count === last.count + 1) durations.push((sum - last.sum) * 1000);
    else if (count > last.count + 1) durations.push(((sum - last.sum) * 1000) / (count - last.count));
    last = { count, sum };
    await sleep(100);
  }
  return durations;
}

export async function hubBench(base: string, report: Report): Promise<void> {
  const { line, target } = report;
  process.stderr.write(`bench: ${HUB_AGENTS} simulated agents with ${PROGRAMS} programs each\n`);
  const simulator = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./hub-agents-child.ts', import.meta.url).pathname, String(HUB_AGENTS), String(PROGRAMS), String(SLOW_EVERY), String(DOWN_EVERY), String(SLOW_MS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let hub: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  let sv: Supervisord | undefined;
  try {
    const agents = await new Promise<{ url: string; kind: string }[]>((resolve, reject) => {
      createInterface({ input: simulator.stdout! }).once('line', (text) => resolve(JSON.parse(text) as { url: string; kind: string }[]));
      simulator.once('exit', (code) => reject(new Error(`the simulated agents exited (${code})`)));
    });
    const dir = join(base, 'hub');
    await mkdir(dir, { recursive: true });
    const hubFile = join(dir, 'hub.yaml');
    await writeFile(
      hubFile,
      `hub: { interval: 5s, timeout: 3s, concurrency: 64 }\nagents:\n${agents.map((a, i) => `  - { name: sim-${String(i).padStart(3, '0')}, url: "${a.url}", labels: { role: r${i % 10}, env: ${i % 2 ? 'prod' : 'staging'} } }`).join('\n')}\n`,
    );
    // As examples/systemd/procguard-hub.service runs it.
    const started = spawnLogged(['hub', '-c', hubFile, '--listen', '127.0.0.1:0'], { PATH: process.env.PATH ?? '', NODE_OPTIONS: '--max-semi-space-size=1' });
    hub = started.child;
    const url = await started.url;
    await roundDurations(url, 1);
    const roundCpuBefore = cpuMsOf(hub.pid!);
    const rounds = await roundDurations(url, report.quick ? 3 : ROUNDS);
    const roundCpu = (cpuMsOf(hub.pid!) - roundCpuBefore) / rounds.length;
    const runs = report.quick ? 5 : 11;
    const cpuBefore = cpuMsOf(hub.pid!);
    const pageRuns = { runs, warmup: 0 };
    const page = await medianMs(async () => (await fetch(`${url}/`)).text(), pageRuns);
    // CPU the hub spent per page, rounds included: an upper bound of what rendering costs it.
    const pageCpu = (cpuMsOf(hub.pid!) - cpuBefore) / runs;
    const bytes = (await (await fetch(`${url}/`)).text()).length;
    const fleet = await medianMs(async () => (await fetch(`${url}/api/fleet`)).text(), { runs });
    const headroom = await medianMs(async () => (await fetch(`${url}/?sort=headroom&group=role`)).text(), { runs });
    const search = await medianMs(async () => (await fetch(`${url}/?q=app_42`)).text(), { runs });
    const summary = ((await (await fetch(`${url}/healthz`)).text()) as string).trim();
    const rss = rssOf(hub.pid!);
    const round = median(rounds);
    const slowest = Math.max(...rounds);

    line(`Hub: ${HUB_AGENTS} simulated agents × ${PROGRAMS} programs (5% answer after ${SLOW_MS} ms, 2% down), concurrency 64`, '', '', '', '', '');
    line('', 'ms', 'ratio', '', '', '');
    line(`poll round, median of ${rounds.length} (slowest)`, `${ms(round)} (${ms(slowest)})`, `${(round / SLOW_MS).toFixed(2)}× the slow agents' delay`, '', '', '');
    line('hub CPU per round', ms(roundCpu), '', '', '', '');
    line(`page, all ${HUB_AGENTS} hosts (${(bytes / 1024).toFixed(0)} KiB)`, ms(page), `hub CPU ≤ ${ms(pageCpu)} ms each`, '', '', '');
    line('page, least headroom first, grouped by role', ms(headroom), '', '', '', '');
    line('page, search for one program', ms(search), '', '', '', '');
    line(`/api/fleet, all ${HUB_AGENTS} hosts`, ms(fleet), '', '', '', '');
    line(
      `load average during the run: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')}`,
      '',
      '',
      '',
      '',
      '',
    );
    line(`hub RSS, MiB (${summary})`, (rss / MIB).toFixed(1), '', '', '', '');
    target('hub poll round ≤ 2 s (500 agents)', slowest <= 2000, `median ${ms(round)} ms, slowest ${ms(slowest)} ms`);
    target('hub RSS ≤ 150 MiB (500 agents)', rss <= 150 * MIB, `${(rss / MIB).toFixed(1)} MiB`);
    target('hub page for 500 hosts ≤ 300 ms', page <= 300, `${ms(page)} ms`);
    await stop(hub);
    hub = undefined;
    await stop(simulator);

    // A real agent: procguard run --listen over a real supervisord with 100 programs.
    process.stderr.write('bench: a real agent over supervisord with 100 programs, answering /api/status\n');
    const programs = Array.from({ length: PROGRAMS }, (_, i) => `[program:hb${i}]\ncommand=sleep ${2721300 + i}\nstartsecs=0\nautorestart=false\n`).join('\n');
    sv = await startSupervisord(programs);
    const agentDir = join(base, 'hub-agent');
    await mkdir(agentDir, { recursive: true });
    await writeFile(
      join(agentDir, 'policies.yaml'),
      `settings:\n  state_dir: ${join(base, 'hub-agent-state')}\nsupervisors:\n  default: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\npolicies:\n  - { name: hb-memory, kind: memory, match: { program: "*" }, max_rss: 500MB }\n  - { name: hb-runtime, kind: runtime, match: { program: "*" }, max_runtime: 30d }\n`,
    );
    const running = spawnLogged(['run', '-c', agentDir, '--interval', '60s', '--listen', '127.0.0.1:0'], { PATH: process.env.PATH ?? '', SV_PASSWORD: PASSWORD });
    agent = running.child;
    const agentUrl = await running.url;
    let status: { supervisors: { processes: unknown[] }[] } | undefined;
    for (let i = 0; i < 200 && (status?.supervisors[0]?.processes.length ?? 0) < PROGRAMS; i += 1) {
      await sleep(100);
      status = (await (await fetch(`${agentUrl}/api/status`)).json()) as typeof status;
    }
    const requests = report.quick ? 100 : 300;
    const before = cpuMsOf(agent.pid!);
    const wall: number[] = [];
    for (let i = 0; i < requests; i += 1) {
      const t = process.hrtime.bigint();
      await (await fetch(`${agentUrl}/api/status`)).text();
      wall.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const cpuPerAnswer = (cpuMsOf(agent.pid!) - before) / requests;
    const answer = median(wall);
    const xmlrpc = await medianMs(() => sv!.client.call('supervisor.getAllProcessInfo', []), { runs: report.quick ? 20 : 50 });
    line(`Agent answering /api/status (procguard run --listen, ${PROGRAMS} programs under a real supervisord)`, '', '', '', '', '');
    line('', 'ms', 'procguard ÷ it', '', '', '');
    line(`agent CPU per answer (${requests} answers)`, ms(cpuPerAnswer), '', '', '', '');
    line('/api/status answered, wall time at the client', ms(answer), '1.00×', '', '', '');
    line("supervisord's getAllProcessInfo (XML-RPC, unix socket)", ms(xmlrpc), `${(answer / xmlrpc).toFixed(2)}×`, '', '', '');
    target("an agent's cost of answering /api/status ≤ 5 ms", cpuPerAnswer <= 5, `${ms(cpuPerAnswer)} ms of the agent's CPU per answer (${ms(answer)} ms at the client)`);
  } finally {
    await stop(hub);
    await stop(agent);
    await stop(simulator);
    await sv?.stop();
  }
}
