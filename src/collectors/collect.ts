// Takes a snapshot of this host: the process table (procfs on Linux, ps elsewhere), the
// load averages, every supervisor's programs joined by pid, and the pidfiles policies name.
// A collector that fails becomes an entry in `errors`; the others still count.

import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { CollectorError, ProcessEntry, Snapshot } from '../engine/types.js';
import type { Matcher, PolicySet } from '../policy/model.js';
import { readLoadAverages, type LoadAverages } from './loadavg/loadavg.js';
import { ProcfsCollector } from './procfs/procfs.js';
import { PsCollector } from './ps/ps.js';
import { connect, readPrograms, supervisorsToAsk, type SupervisedProgram } from './supervisor/supervisor.js';
import type { ProcessFields, ProcessTableCollector } from './types.js';

export interface CollectOptions {
  env: NodeJS.ProcessEnv;
  /** Default: procfs on Linux, ps elsewhere. */
  processTable?: ProcessTableCollector;
  /** Default /proc/loadavg on Linux; null for os.loadavg(). */
  loadavgPath?: string | null;
  /** Default: what the policies need. */
  fields?: ProcessFields;
  hostname?: string;
  /** Epoch seconds. */
  now?: () => number;
  /** procguard's own pid; never acted on, nor its ancestors. */
  self?: number;
}

export function defaultProcessTable(): ProcessTableCollector {
  return process.platform === 'linux' ? new ProcfsCollector() : new PsCollector();
}

/** $PROCGUARD_LOADAVG (a file in /proc/loadavg's format: to try load policies, or in a container), else /proc/loadavg on Linux. */
function defaultLoadavgPath(env: NodeJS.ProcessEnv): string | null {
  if (env.PROCGUARD_LOADAVG) return env.PROCGUARD_LOADAVG;
  return process.platform === 'linux' ? '/proc/loadavg' : null;
}

/** Read cmdline, oom_score_adj and users only when a policy needs them. */
export function fieldsFor(policySet: PolicySet): ProcessFields {
  const matchers = policySet.policies.flatMap((p) => withExcludes(p.match));
  return {
    cmdline: matchers.some((m) => m.cmdline !== undefined),
    truncatedNames: matchers.some((m) => m.name !== undefined),
    oomScoreAdj: policySet.policies.some((p) => p.kind === 'oom'),
    user: matchers.some((m) => m.user !== undefined),
  };
}

function withExcludes(matcher: Matcher): Matcher[] {
  return matcher.exclude ? [matcher, ...withExcludes(matcher.exclude)] : [matcher];
}

export async function collectSnapshot(policySet: PolicySet, options: CollectOptions): Promise<Snapshot> {
  const errors: CollectorError[] = [];
  const table = options.processTable ?? defaultProcessTable();
  const loadPath = options.loadavgPath === undefined ? defaultLoadavgPath(options.env) : options.loadavgPath;

  const [processes, load, supervised, pidfiles] = await Promise.all([
    table.collect(options.fields ?? fieldsFor(policySet)).catch((error: unknown) => {
      errors.push({ source: table.name, message: messageOf(error) });
      return [] as ProcessEntry[];
    }),
    readLoadAverages(loadPath ?? undefined).catch((error: unknown) => {
      errors.push({ source: 'loadavg', message: messageOf(error) });
      return undefined;
    }),
    Promise.all(
      supervisorsToAsk(policySet.supervisors, options.env).map(async (config) => {
        try {
          return await readPrograms(await connect(config, options.env));
        } catch (error) {
          errors.push({ source: `supervisor:${config.name}`, message: messageOf(error) });
          return [] as SupervisedProgram[];
        }
      }),
    ),
    readPidfiles(policySet, errors),
  ]);

  const time = options.now?.() ?? Math.floor(Date.now() / 1000);
  const snapshot: Snapshot = {
    version: 1,
    time,
    host: options.hostname ?? hostname(),
    ...(load ? { load: load satisfies LoadAverages } : {}),
    ...(options.self !== undefined ? { self: options.self } : {}),
    ...(Object.keys(pidfiles).length > 0 ? { pidfiles } : {}),
    processes: joinSupervised(processes, supervised.flat()),
  };
  if (errors.length > 0) snapshot.errors = errors.sort((a, b) => a.source.localeCompare(b.source));
  return snapshot;
}

/** Each running program is attached to its process by pid; a stopped one is listed with pid 0. */
export function joinSupervised(processes: ProcessEntry[], programs: SupervisedProgram[]): ProcessEntry[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const stopped: ProcessEntry[] = [];
  for (const program of programs) {
    if (program.pid === 0) {
      stopped.push({ pid: 0, supervisor: program.entry });
      continue;
    }
    const process = byPid.get(program.pid);
    if (process) process.supervisor = program.entry; // a pid that has just exited is simply not listed
  }
  return [...processes, ...stopped];
}

async function readPidfiles(policySet: PolicySet, errors: CollectorError[]): Promise<Record<string, number | null>> {
  const paths = new Set(policySet.policies.flatMap((p) => withExcludes(p.match)).flatMap((m) => m.pidfile ?? []));
  const result: Record<string, number | null> = {};
  await Promise.all(
    [...paths].map(async (path) => {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        const pid = /^\d+$/.test(text) ? Number(text) : NaN;
        result[path] = Number.isSafeInteger(pid) && pid > 0 ? pid : null;
        if (result[path] === null) errors.push({ source: 'pidfile', message: `${path} does not hold a pid` });
      } catch (error) {
        result[path] = null;
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') errors.push({ source: 'pidfile', message: `${path}: ${messageOf(error)}` });
      }
    }),
  );
  return result;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const path = (error as NodeJS.ErrnoException).path;
    return code && path && !error.message.includes(path) ? `${path}: ${code}` : error.message;
  }
  return String(error);
}
