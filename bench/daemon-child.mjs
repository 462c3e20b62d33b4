// One daemon, alone in its process as in production (the built code, no TypeScript loader):
// `procguard run` for TICKS cycles at INTERVAL_MS, printing its RSS and CPU time at each
// checkpoint as JSON lines on stdout.
//   node bench/daemon-child.mjs CONFIG_DIR TICKS INTERVAL_MS

import { runDaemon } from '../dist/modes/daemon.js';

const [config, ticks, intervalMs] = process.argv.slice(2);
const maxCycles = Number(ticks);
const checkpoints = new Set([1, 10, 100, 250, 500, 750, maxCycles]);
const quiet = { stdout: () => {}, stderr: (text) => process.stderr.write(text), env: process.env, cwd: process.cwd() };

const exitCode = await runDaemon(
  {
    config: [config],
    intervalMs: Number(intervalMs),
    maxCycles,
    onCycle: (cycles) => {
      if (!checkpoints.has(cycles)) return;
      const cpu = process.cpuUsage();
      process.stdout.write(`${JSON.stringify({ cycles, rss: process.memoryUsage.rss(), cpuMs: (cpu.user + cpu.system) / 1000, at: performance.now() })}\n`);
    },
  },
  quiet,
);
process.exitCode = exitCode;
