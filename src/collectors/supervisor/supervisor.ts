// supervisord's programs through getAllProcessInfo, for each configured supervisor, or the
// one named by SUPERVISOR_SERVER_URL/_USERNAME/_PASSWORD when none is configured (as memmon).

import type { SupervisorEntry } from '../../engine/types.js';
import type { SupervisorConfig } from '../../policy/model.js';
import { DEFAULTS } from '../../policy/model.js';
import { supervisorEndpoint } from '../../policy/normalize.js';
import { readSecretFile } from '../../policy/secret-file.js';
import { SupervisorClient, SupervisorError } from './client.js';

/** The name given to the supervisor found in the environment. */
export const ENV_SUPERVISOR_NAME = 'default';

const STATE_NAMES = new Set<SupervisorEntry['statename']>(['STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL', 'UNKNOWN']);

export interface SupervisedProgram {
  pid: number;
  entry: SupervisorEntry;
}

/** The supervisors to ask: the configured ones, else the one in the environment, else none. */
export function supervisorsToAsk(configured: readonly SupervisorConfig[], env: NodeJS.ProcessEnv): SupervisorConfig[] {
  if (configured.length > 0) return [...configured];
  const url = env.SUPERVISOR_SERVER_URL;
  if (!url) return [];
  return [
    {
      name: ENV_SUPERVISOR_NAME,
      url,
      endpoint: supervisorEndpoint(url),
      ...(env.SUPERVISOR_USERNAME ? { username: env.SUPERVISOR_USERNAME } : {}),
      ...(env.SUPERVISOR_PASSWORD !== undefined ? { password: { env: 'SUPERVISOR_PASSWORD' } } : {}),
      timeout: DEFAULTS.supervisorTimeout,
      source: { file: 'environment', line: 0, column: 0 },
    },
  ];
}

/** A client with its password read from the environment or a file; a missing secret is an error naming where it was looked for. */
export async function connect(config: SupervisorConfig, env: NodeJS.ProcessEnv): Promise<SupervisorClient> {
  let password: string | undefined;
  if (config.password && 'env' in config.password) {
    password = env[config.password.env];
    if (password === undefined) throw new SupervisorError(`supervisor "${config.name}": password_env ${config.password.env} is not set`, 'auth');
  } else if (config.password) {
    const text = await readSecretFile(config.password.file);
    if (typeof text !== 'string') throw new SupervisorError(`supervisor "${config.name}": password_file: ${text.message}`, 'auth');
    password = text;
  }
  return new SupervisorClient({
    name: config.name,
    url: config.url,
    endpoint: config.endpoint,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(password !== undefined ? { password } : {}),
    timeout: config.timeout,
  });
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
