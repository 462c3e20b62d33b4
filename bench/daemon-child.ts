// One daemon, alone in its process as in production: `procguard run` for TICKS cycles at
// INTERVAL_MS, printing its RSS after every cycle, and its anonymous memory and CPU time at
// each checkpoint too, as JSON lines on stdout. The
// benchmark bundles this file with procguard's own bundler settings (scripts/bundle.mjs), so
// what runs is the bundled daemon a server runs. Run it with the NODE_OPTIONS to measure.
//   node DAEMON_CHILD.js CONFIG_DIR TICKS INTERVAL_MS
// With PROCGUARD_BENCH_HEAP_DIR set, it also writes a V8 heap snapshot there at ticks 200 and
// TICKS (tick-200.heapsnapshot, tick-TICKS.heapsnapshot), to compare what the heap holds.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { runDaemon } from '../src/modes/daemon.js';

const [config, ticks, intervalMs] = process.argv.slice(2);
const maxCycles = Number(ticks);
const checkpoints = new Set([1, 10, 100, 200, 250, 500, 750, maxCycles]);
const heapDir = process.env.PROCGUARD_BENCH_HEAP_DIR;
/** The part of RSS that is this process' own memory, not the node binary and libraries mapped from disk. */
function anonymousBytes(): number {
  const match = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

const quiet = { stdout: () => {}, stderr: (text: string) => void process.stderr.write(text), env: process.env, cwd: process.cwd() };

void runDaemon({ config: [config!] }, quiet, {
  intervalMs: Number(intervalMs),
  maxCycles,
  onCycle: (cycles) => {
    if (!checkpoints.has(cycles)) {
      process.stdout.write(`${JSON.stringify({ cycles, rss: process.memoryUsage.rss() })}\n`);
      return;
    }
    if (heapDir && (cycles === 200 || cycles === maxCycles)) writeHeapSnapshot(join(heapDir, `tick-${cycles}.heapsnapshot`));
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cycles, rss: process.memoryUsage.rss(), anonymous: anonymousBytes(), cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  },
}).then((exitCode) => {
  process.exitCode = exitCode;
});
