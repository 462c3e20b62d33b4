// Takes a snapshot of this host: the process table (procfs on Linux, ps elsewhere), the
// load averages, every supervisor's programs joined by pid, and the pidfiles policies name.
// A collector that fails becomes an entry in `errors`; the others still count.

import { kindOf } from '../policy/kinds/index.js';
import { errorText } from '../shared/errors.js';
import { hostname } from 'node:os';
import type { CollectorError, ProcessEntry, Snapshot } from '../data/types.js';
import { hostIdentity, selectForHost } from '../policy/hosts.js';
import type { Matcher, PolicySet } from '../policy/model.js';
import { readPidfiles } from './pidfile/pidfile.js';
import { readLoadAverages, type LoadAverages } from './loadavg/loadavg.js';
import { ProcfsCollector } from './procfs/procfs.js';
import { PsCollector } from './ps/ps.js';
import type { SupervisorClientOptions } from '../supervisord/client.js';
import { parentOf } from '../supervisord/listener.js';
import { programsForThisHost, readPrograms, type SupervisedProgram } from './supervisor/supervisor.js';
import { askOverKeptConnection, keepConnectionsOnlyTo, supervisorsToAsk } from '../supervisord/connect.js';
import type { LaterFields, ProcessFields, ProcessTableCollector } from './types.js';
import { combineHostNeeds, PRESSURE_RESOURCES, type HostNeeds } from '../policy/host-needs.js';
import { readHostMemory } from './meminfo/meminfo.js';
import { readPressure } from './pressure/pressure.js';

export interface CollectOptions {
  env: NodeJS.ProcessEnv;
  /** Default: procfs on Linux, ps elsewhere. */
  processTable?: ProcessTableCollector;
  /** Default /proc/loadavg on Linux; null for os.loadavg(). */
  loadavgPath?: string | null;
  /** Default: what the policies need. */
  fields?: ProcessFields;
  /** The host's memory and pressure to read (ALL_HOST_FIELDS for `procguard snapshot`). Default: what the policies need. */
  host?: HostNeeds;
  /**
   * Which processes need the fields a second pass reads; without it (or `fields`), one pass
   * reads everything the policies may need.
   */
  secondPass?: SecondPass;
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

/** Read cmdline, exe, oom_score_adj and users only when a policy needs them: everything in one pass, for a collector without a second. */
export function fieldsFor(policySet: PolicySet): ProcessFields {
  const matchers = policySet.policies.flatMap((p) => withExcludes(p.match));
  return {
    cmdline: matchers.some((m) => m.cmdline !== undefined),
    truncatedNames: matchers.some((m) => m.name !== undefined),
    oomScoreAdj: policySet.policies.some((p) => kindOf(p.kind).reads?.includes('oomScoreAdj') === true),
    smaps: policySet.policies.some((p) => kindOf(p.kind).processReads?.(p)?.fields.includes('smaps') === true),
    // A pidfile another user can change names only that user's processes: the engine compares uids.
    user: matchers.some((m) => m.user !== undefined || m.pidfile !== undefined),
    exe: matchers.some((m) => m.exe !== undefined),
  };
}

/**
 * What the second pass reads and for which processes, decided from the policies' matchers by
 * the caller (the engine's `fieldsNeeded`): the collector only reads.
 */
export interface SecondPass {
  /** Whether the first pass reads these for every process: a policy matches on them alone. */
  readonly firstPass: { cmdline: boolean; exe: boolean };
  /**
   * For the first pass's snapshot, the processes that need `field` read: asked for cmdline, then
   * exe, then oomScoreAdj, then smaps, each once the fields asked before have been read into the snapshot.
   */
  forSnapshot(snapshot: Snapshot): (field: keyof LaterFields) => readonly ProcessEntry[];
  /** The host's memory and pressure, read only when a policy needs them. */
  readonly host?: HostNeeds;
}

/** What the policies need of the host as a whole, by the first policy that needs each. */
export function hostNeedsFor(policySet: PolicySet): HostNeeds {
  return combineHostNeeds(policySet.policies.map((policy) => ({ name: policy.name, needs: kindOf(policy.kind).hostNeeds?.(policy) })));
}

/** The first of two passes: command lines (or executables) for every process only when a policy matches on them alone. */
function firstPassFields(policySet: PolicySet, secondPass: SecondPass): ProcessFields {
  return { ...fieldsFor(policySet), ...secondPass.firstPass, oomScoreAdj: false, smaps: false };
}

/** How many policies the warning of noSupervisorAsked names; the rest are counted. */
const NAMES_SHOWN = 5;

/** Policies that match supervisord programs when no supervisor is asked match no program: said once. */
function noSupervisorAsked(policySet: PolicySet): CollectorError[] {
  const names = policySet.policies.filter((p) => withExcludes(p.match).some((m) => m.program !== undefined || m.group !== undefined)).map((p) => `"${p.name}"`);
  if (names.length === 0) return [];
  const shown = names.length > NAMES_SHOWN ? [...names.slice(0, NAMES_SHOWN), `${names.length - NAMES_SHOWN} more`] : names;
  const policies = names.length === 1 ? `policy ${names[0]} matches` : `policies ${shown.join(', ')} match`;
  return [
    {
      source: 'supervisor',
      message: `no supervisor was asked (none is configured and SUPERVISOR_SERVER_URL is not set), so no supervisord program is seen: ${policies} no program`,
    },
  ];
}

function withExcludes(matcher: Matcher): Matcher[] {
  return matcher.exclude ? [matcher, ...withExcludes(matcher.exclude)] : [matcher];
}

/** The second pass: command lines, then executables, then oom_score_adj, then smaps_rollup, each for the processes that need it. */
function completeForPolicies(secondPass: SecondPass, snapshot: Snapshot, complete: NonNullable<ProcessTableCollector['complete']>): void {
  const processesNeeding = secondPass.forSnapshot(snapshot);
  for (const field of ['cmdline', 'exe', 'oomScoreAdj', 'smaps'] as const) {
    const need = processesNeeding(field);
    if (need.length > 0) complete(need, { [field]: true });
  }
}

export async function collectSnapshot(configured: PolicySet, options: CollectOptions): Promise<Snapshot> {
  // A supervisor or policy that is not for this host (`hosts:`) is neither asked nor read for.
  const host = options.hostname ?? hostname();
  const policySet = selectForHost(configured, hostIdentity(configured, host)).active;
  const errors: CollectorError[] = [];
  const warnings: CollectorError[] = [];
  const table = options.processTable ?? defaultProcessTable();
  const loadPath = options.loadavgPath === undefined ? defaultLoadavgPath(options.env) : options.loadavgPath;
  const secondPass = options.fields === undefined ? options.secondPass : undefined;
  const complete = secondPass ? table.complete?.bind(table) : undefined;

  // The supervisors are asked first: they answer while the process table is read. Each over a
  // connection kept open from cycle to cycle, its listener verified when it was opened.
  const asked = supervisorsToAsk(policySet.supervisors, options.env);
  if (asked.length === 0) warnings.push(...noSupervisorAsked(policySet));
  keepConnectionsOnlyTo(asked);
  const supervisedReplies = Promise.all(
    asked.map(async (config) => {
      try {
        const { client, answer } = await askOverKeptConnection(config, options.env, readPrograms);
        return { client: client.options, programs: answer };
      } catch (error) {
        errors.push({ source: `supervisor:${config.name}`, message: messageOf(error) });
        return undefined;
      }
    }),
  );
  const [processes, load, supervised, pidfiles] = await Promise.all([
    table.collect(options.fields ?? (secondPass && complete ? firstPassFields(policySet, secondPass) : fieldsFor(policySet))).catch((error: unknown) => {
      errors.push({ source: table.name, message: messageOf(error) });
      return [] as ProcessEntry[];
    }),
    readLoadAverages(loadPath ?? undefined).catch((error: unknown) => {
      errors.push({ source: 'loadavg', message: messageOf(error) });
      return undefined;
    }),
    supervisedReplies,
    readPidfiles(
      policySet.policies.flatMap((p) => withExcludes(p.match)).flatMap((m) => m.pidfile ?? []),
      errors,
    ),
  ]);

  const time = options.now?.() ?? Math.floor(Date.now() / 1000);
  const hostNeeds = options.host ?? options.secondPass?.host ?? hostNeedsFor(policySet);
  const { memory, pressure } = readHost(hostNeeds, table, errors, warnings);
  const snapshot: Snapshot = {
    version: 1,
    time,
    host,
    ...(table.sinceBoot !== undefined ? { since_boot: table.sinceBoot } : {}),
    ...(load ? { load: load satisfies LoadAverages } : {}),
    ...(memory ? { memory } : {}),
    ...(pressure ? { pressure } : {}),
    ...(options.self !== undefined ? { self: options.self } : {}),
    ...(Object.keys(pidfiles).length > 0 ? { pidfiles } : {}),
    processes: joinSupervised(processes, trusted(oncePerSupervisord(supervised, warnings), processes, errors)),
  };
  if (secondPass && complete && processes.length > 0) {
    try {
      completeForPolicies(secondPass, snapshot, complete);
    } catch (error) {
      errors.push({ source: table.name, message: messageOf(error) });
    }
  }
  if (errors.length > 0) snapshot.errors = errors.sort((a, b) => a.source.localeCompare(b.source));
  if (warnings.length > 0) snapshot.warnings = warnings;
  return snapshot;
}

/**
 * The host's memory and pressure the policies need, from meminfo and pressure/ under the
 * procfs collector's root. What a policy needs and cannot be read is an error naming the
 * policy; what only `procguard snapshot` asked for is a warning.
 */
function readHost(needs: HostNeeds, table: ProcessTableCollector, errors: CollectorError[], warnings: CollectorError[]): Pick<Snapshot, 'memory' | 'pressure'> {
  const root = table instanceof ProcfsCollector ? table.root : undefined;
  const report = (source: string, neededBy: string, message: string): void => {
    if (neededBy === '') warnings.push({ source, message });
    else errors.push({ source, message: `${message}; policy "${neededBy}" needs it` });
  };
  const read: Pick<Snapshot, 'memory' | 'pressure'> = {};
  if (needs.memory !== undefined) {
    if (root === undefined) report('meminfo', needs.memory, `the host's memory is read from /proc/meminfo, which the ${table.name} collector does not read`);
    else {
      try {
        read.memory = readHostMemory(root);
      } catch (error) {
        report('meminfo', needs.memory, messageOf(error));
      }
    }
  }
  const resources = PRESSURE_RESOURCES.filter((r) => needs.pressure[r] !== undefined);
  if (resources.length > 0) {
    if (root === undefined) {
      for (const r of resources) report('pressure', needs.pressure[r]!, `${r} pressure is read from /proc/pressure/${r}, which the ${table.name} collector does not read`);
    } else {
      const { pressure, missing } = readPressure(root, resources);
      for (const r of resources) if (missing[r] !== undefined) report('pressure', needs.pressure[r]!, missing[r]);
      if (Object.keys(pressure).length > 0) read.pressure = pressure;
    }
  }
  return read;
}

/**
 * One supervisord reached through two entries (its unix socket and its inet port) answers
 * both with the same programs: they are taken from the first entry only, and the other is
 * named in a warning. Told apart by the pid of the supervisord verified behind each local
 * listener; a remote one's pid is another host's and is not compared.
 */
function oncePerSupervisord<T extends { client: SupervisorClientOptions }>(replies: readonly (T | undefined)[], warnings: CollectorError[]): (T | undefined)[] {
  const first = new Map<number, SupervisorClientOptions>();
  return replies.map((reply) => {
    const pid = reply?.client.supervisord;
    if (!reply || pid === undefined || reply.client.remote) return reply;
    const earlier = first.get(pid);
    if (!earlier) {
      first.set(pid, reply.client);
      return reply;
    }
    const { name, url } = reply.client;
    warnings.push({
      source: `supervisor:${name}`,
      message: `supervisor "${name}" (${url}) is the same supervisord as "${earlier.name}" (${earlier.url}), pid ${pid}: its programs are listed under "${earlier.name}" only; configure it once`,
    });
    return undefined;
  });
}

/** Every supervisor's programs, those whose pid is not its verified supervisord's child (or is another host's) with pid 0. */
function trusted(
  replies: readonly ({ client: SupervisorClientOptions; programs: SupervisedProgram[] } | undefined)[],
  processes: readonly ProcessEntry[],
  errors: CollectorError[],
): SupervisedProgram[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const parent = (pid: number): number | undefined => {
    const process = byPid.get(pid);
    if (!process) return undefined;
    return process.ppid ?? parentOf(pid);
  };
  return replies.flatMap((reply) => (reply ? programsForThisHost(reply.client, reply.programs, parent, errors) : []));
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

/** A file the collector could not read as "path: CODE"; anything else as errorText. */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return errorText(error);
  const { code, path } = error as NodeJS.ErrnoException;
  return code && path && !error.message.includes(path) ? `${path}: ${code}` : errorText(error);
}
