// `procguard snapshot [-c …] [--json]`: what the collectors see on this host now, every field
// read. The JSON is the format `check --snapshot` reads; exit 3 when a collector failed.

import { existsSync } from 'node:fs';
import { collectSnapshot } from '../collectors/collect.js';
import { ALL_FIELDS } from '../collectors/types.js';
import { ALL_HOST_FIELDS } from '../policy/host-needs.js';
import { jsonText, printable } from '../shared/text.js';
import { configPaths } from '../policy/load.js';
import { DEFAULTS, type PolicySet } from '../policy/model.js';
import { formatBytes, formatDuration } from '../shared/units.js';
import { loadConfiguration } from './context.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { table } from '../shared/text.js';

export interface SnapshotOptions {
  config: string[];
  json?: boolean;
}

const NO_POLICIES: PolicySet = { files: [], settings: { interval: DEFAULTS.interval, stateDir: DEFAULTS.stateDir }, supervisors: [], notifiers: [], policies: [] };

export async function runSnapshot(options: SnapshotOptions, io: CliIo): Promise<ExitCode> {
  // Without any configuration the snapshot is still useful: the host, and the supervisor of SUPERVISOR_SERVER_URL.
  const paths = configPaths(options.config, io.env);
  const configured = options.config.length > 0 || io.env.PROCGUARD_CONFIG || paths.some((p) => existsSync(p));
  const policySet = configured ? await loadConfiguration(options.config, io) : NO_POLICIES;
  const snapshot = await collectSnapshot(policySet, { env: io.env, fields: ALL_FIELDS, host: ALL_HOST_FIELDS, self: process.pid });
  if (options.json) {
    io.stdout(`${jsonText(snapshot)}\n`);
  } else {
    const rows = [['PID', 'PPID', 'USER', 'RSS', 'UPTIME', 'S', 'PROGRAM', 'NAME', 'COMMAND']];
    const sorted = [...snapshot.processes].sort((a, b) => a.pid - b.pid);
    for (const p of sorted) {
      const program = p.supervisor ? `${p.supervisor.server}:${p.supervisor.group}:${p.supervisor.name}${p.pid === 0 ? ` (${p.supervisor.statename})` : ''}` : '';
      rows.push([
        String(p.pid),
        p.ppid === undefined ? '' : String(p.ppid),
        p.user ?? (p.uid === undefined ? '' : String(p.uid)),
        p.rss === undefined ? '' : formatBytes(p.rss),
        p.start_time === undefined ? '' : formatDuration(snapshot.time - p.start_time) || '0s',
        p.state ?? '',
        program,
        printable(p.name ?? ''),
        printable((p.cmdline ?? '').slice(0, 200)),
      ]);
    }
    for (const line of table(rows)) io.stdout(`${line}\n`);
    const load = snapshot.load ? snapshot.load.map((l) => l.toFixed(2)).join(' ') : 'unknown';
    io.stdout(`${snapshot.host}: ${snapshot.processes.filter((p) => p.pid > 0).length} processes, load ${load}\n`);
  }
  for (const error of snapshot.errors ?? []) io.stderr(`procguard: ${error.source}: ${printable(error.message)}\n`);
  return (snapshot.errors ?? []).length > 0 ? ExitCode.FAILED : ExitCode.OK;
}
