import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { collectSnapshot } from '../src/collectors/collect.js';
import { fieldsNeeded } from '../src/engine/fields-needed.js';
import { ProcfsCollector } from '../src/collectors/procfs/procfs.js';
import { evaluate } from '../src/engine/evaluate.js';
import { emptyState } from '../src/data/types.js';
import { loadConfig } from '../src/modes/config.js';
import { connect } from '../src/supervisord/connect.js';
import { readPrograms } from '../src/collectors/supervisor/supervisor.js';
import { PASSWORD, USERNAME, startSupervisord } from '../test/helpers/supervisord.js';
import { generatePolicies, writePolicies } from './fixtures.js';
import { alternatingMedians } from './measure.js';

function programsConf(): string {
  const groups: string[] = [];
  for (let g = 0; g < 10; g += 1) {
    const names = Array.from({ length: 10 }, (_, p) => `g${g}_p${p}`);
    groups.push(`[group:g${g}]\nprograms=${names.join(',')}\n`);
    for (const name of names) groups.push(`[program:${name}]\ncommand=sleep ${720000 + g * 10 + Number(name.split('_p')[1])}\nstartsecs=0\nautorestart=false\n`);
  }
  return groups.join('\n');
}
function bare(): number {
  let bytes = 0;
  for (const entry of readdirSync('/proc')) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    try {
      bytes += readFileSync(`/proc/${entry}/stat`, 'utf8').length;
    } catch {
      /* gone */
    }
  }
  return bytes;
}
const sv = await startSupervisord(programsConf());
const fillers: ChildProcess[] = [];
for (let i = readdirSync('/proc').filter((e) => /^\d+$/.test(e)).length; i < 1000; i += 1) fillers.push(spawn('sleep', [String(200000 + i)], { stdio: 'ignore' }));
await new Promise((r) => setTimeout(r, 1000));
const base = await mkdtemp(join(tmpdir(), 'i22mem-prof-'));
await writePolicies(base, generatePolicies(100, 1000));
await writeFile(join(base, 'supervisors.yaml'), `supervisors:\n  default: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\n`);
const { config } = await loadConfig([base]);
const set = config!.policySet;
const env = { SV_PASSWORD: PASSWORD };
const table = new ProcfsCollector();
const needed = fieldsNeeded(set);
let state = emptyState();
let last: Awaited<ReturnType<typeof collectSnapshot>> | undefined;
const cycle = async () => {
  last = await collectSnapshot(set, { env, processTable: table, self: process.pid, secondPass: needed });
  state = evaluate(set, last, state, last.time).state;
};
const client = await connect(set.supervisors[0]!, env);
const phases = {
  cycle,
  bare,
  supervisor: async () => readPrograms(await connect(set.supervisors[0]!, env)),
  supervisorReused: async () => readPrograms(client),
  firstPass: () => table.collect({ cmdline: false, truncatedNames: true, oomScoreAdj: false, user: false, exe: false }),
  evaluate: () => evaluate(set, last!, state, last!.time),
};
await cycle();
const names = Object.keys(phases) as (keyof typeof phases)[];
const medians = await alternatingMedians(
  names.map((n) => phases[n]),
  Number(process.env.RUNS ?? 21),
);
names.forEach((n, i) => console.log(n.padEnd(18), medians[i]!.toFixed(2)));
console.log(
  'cpu of cycle',
  (() => {
    const s = process.cpuUsage();
    return s;
  })(),
);
if (process.env.PROFILE) {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  for (let i = 0; i < 50; i += 1) await cycle();
  const { profile } = await session.post('Profiler.stop');
  await writeFile('/tmp/i22mem/cycle.cpuprofile', JSON.stringify(profile));
}
for (const f of fillers) f.kill('SIGKILL');
await sv.stop();
