// One daemon, alone in its process as in production (the built code, no TypeScript loader):
// `procguard run` for TICKS cycles at INTERVAL_MS, printing its RSS and CPU time at each
// checkpoint as JSON lines on stdout. Run it with the NODE_OPTIONS to measure.
//   node bench/daemon-child.mjs CONFIG_DIR TICKS INTERVAL_MS

import { readFileSync } from 'node:fs';
import { runDaemon } from '../dist/modes/daemon.js';

const [config, ticks, intervalMs] = process.argv.slice(2);
const maxCycles = Number(ticks);
const checkpoints = new Set([1, 10, 100, 250, 500, 750, maxCycles]);
/** The part of RSS that is this process' own memory, not the node binary and libraries mapped from disk. */
function anonymousBytes() {
  const match = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

const quiet = { stdout: () => {}, stderr: (text) => process.stderr.write(text), env: process.env, cwd: process.cwd() };

const exitCode = await runDaemon({ config: [config] }, quiet, {
  intervalMs: Number(intervalMs),
  maxCycles,
  onCycle: (cycles) => {
    if (!checkpoints.has(cycles)) return;
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cycles, rss: process.memoryUsage.rss(), anonymous: anonymousBytes(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  },
});
process.exitCode = exitCode;
