// supervisord's programs through getAllProcessInfo, each joined to this host's process table only
// when its pid is the verified supervisord's child.

import type { CollectorError, SupervisorEntry } from '../../data/types.js';
import { SupervisorError, type SupervisorClient, type SupervisorClientOptions } from '../../supervisord/client.js';

const STATE_NAMES = new Set<SupervisorEntry['statename']>(['STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL', 'UNKNOWN']);

export interface SupervisedProgram {
  pid: number;
  entry: SupervisorEntry;
}

export async function readPrograms(client: SupervisorClient): Promise<SupervisedProgram[]> {
  const reply = await client.call('supervisor.getAllProcessInfo');
  const where = `supervisor "${client.options.name}"`;
  if (!Array.isArray(reply)) throw new SupervisorError(`${where} answered getAllProcessInfo with ${typeof reply}, not a list`, 'protocol');
  return reply.map((info: unknown, index) => {
    const record = info as Record<string, unknown>;
    const { name, group, pid, statename, start } = record;
    if (typeof name !== 'string' || typeof group !== 'string' || typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0) {
      throw new SupervisorError(`${where} answered getAllProcessInfo with a malformed entry at index ${index}`, 'protocol');
    }
    const state = STATE_NAMES.has(statename as SupervisorEntry['statename']) ? (statename as SupervisorEntry['statename']) : 'UNKNOWN';
    return {
      pid,
      entry: {
        server: client.options.name,
        group,
        name,
        statename: state,
        start: typeof start === 'number' && Number.isInteger(start) && start > 0 ? start : 0,
      },
    };
  });
}

/**
 * The programs as this host may take them: a program is joined to a local process only when
 * that process is a child of the verified supervisord. A remote supervisor's programs, and a
 * pid that is not such a child (with an error naming both pids), are listed with pid 0 and
 * never acted on.
 */
export function programsForThisHost(
  client: Pick<SupervisorClientOptions, 'name' | 'supervisord' | 'remote'>,
  programs: readonly SupervisedProgram[],
  parentOfPid: (pid: number) => number | undefined,
  errors: CollectorError[],
): SupervisedProgram[] {
  return programs.map((program) => {
    if (program.pid === 0) return program;
    if (client.remote) return { pid: 0, entry: { ...program.entry, remote: true } };
    const parent = parentOfPid(program.pid);
    if (parent === undefined || parent === client.supervisord) return program; // one that has just exited is simply not listed
    errors.push({
      source: `supervisor:${client.name}`,
      message: `supervisor "${client.name}" names pid ${program.pid} as ${program.entry.group}:${program.entry.name}, but pid ${program.pid} is not a child of supervisord (pid ${client.supervisord ?? '?'}; its parent is pid ${parent}); not joined, never acted on`,
    });
    return { pid: 0, entry: program.entry };
  });
}
