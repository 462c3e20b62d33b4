// The adapters' dependencies on the live host: the real clock, signals, /proc and lazily
// connected supervisord clients (one per supervisor for the whole cycle).

import { hostname } from 'node:os';
import { readStartTime } from '../host/proc.js';
import type { SupervisorClient } from '../supervisord/client.js';
import { connect, supervisorsToAsk } from '../supervisord/connect.js';
import type { SupervisorConfig } from '../policy/model.js';
import { startTimeFromPs } from '../host/ps.js';
import type { AdapterDeps } from './types.js';

export function liveDeps(supervisors: readonly SupervisorConfig[], env: NodeJS.ProcessEnv, log: (line: string) => void, stopping?: AbortSignal): AdapterDeps {
  const clients = new Map<string, Promise<SupervisorClient>>();
  return {
    env,
    now: () => Math.floor(Date.now() / 1000),
    hostname: hostname(),
    supervisor(name) {
      let client = clients.get(name);
      if (!client) {
        const config = supervisorsToAsk(supervisors, env).find((s) => s.name === name);
        client = config ? connect(config, env) : Promise.reject(new Error(`supervisor "${name}" is not configured`));
        clients.set(name, client);
      }
      return client;
    },
    startTime: process.platform === 'linux' ? (pid) => readStartTime(pid) : startTimeFromPs,
    startTimeSlack: process.platform === 'linux' ? 0 : 1,
    kill: (pid, signal) => process.kill(pid, signal),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    procRoot: '/proc',
    log,
    ...(stopping ? { stopping } : {}),
  };
}
