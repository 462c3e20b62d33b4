// Starts a real supervisord (Debian's package) with a temporary configuration: a unix socket
// and 127.0.0.1 with basic auth, the given programs, and stops it afterwards.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SupervisorClient } from '../../src/supervisord/client.js';

export const USERNAME = 'admin';
export const PASSWORD = 's3cret';

export interface Supervisord {
  dir: string;
  socket: string;
  port: number;
  unixUrl: string;
  httpUrl: string;
  client: SupervisorClient;
  stop(): Promise<void>;
  /** SIGKILL to supervisord alone, as a crash would: its children live on, orphaned. */
  kill9(): Promise<void>;
  /** SIGTERM: supervisord stops its programs and exits, its configuration kept for restart(). */
  terminate(): Promise<void>;
  /** Starts supervisord again on the same configuration, socket and port. */
  restart(): Promise<void>;
  /** supervisord's own log file. */
  log: string;
}

/** The integration tests always run against a real supervisord: without one they fail, saying how to install it. */
export function requireSupervisord(): void {
  const found = spawnSync('sh', ['-c', 'command -v supervisord'], { encoding: 'utf8' }).status === 0;
  if (!found) throw new Error('supervisord is not installed: apt-get install -y supervisor (the integration tests need a real one)');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** `programs` is the [program:x]/[group:x]/[eventlistener:x] part of supervisord.conf; debug logs every listener state change. */
export async function startSupervisord(programs: string, options: { loglevel?: 'info' | 'debug' } = {}): Promise<Supervisord> {
  const dir = await mkdtemp(join(tmpdir(), 'pg-sv-'));
  const socket = join(dir, 'supervisor.sock');
  const port = await freePort();
  const conf = join(dir, 'supervisord.conf');
  await writeFile(
    conf,
    `[unix_http_server]
file=${socket}
username=${USERNAME}
password=${PASSWORD}

[inet_http_server]
port=127.0.0.1:${port}
username=${USERNAME}
password=${PASSWORD}

[supervisord]
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}
nodaemon=true
loglevel=${options.loglevel ?? 'info'}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

${programs}
`,
  );
  let child: ChildProcess = spawn('supervisord', ['-c', conf], { stdio: 'ignore', detached: false });
  const unixUrl = `unix://${socket}`;
  const client = new SupervisorClient({ name: 'main', url: unixUrl, endpoint: { transport: 'unix', socketPath: socket }, username: USERNAME, password: PASSWORD, timeout: 5 });
  const exit = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const stop = async (): Promise<void> => {
    await exit('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  // Ready when every autostarted program has left STARTING.
  const log = join(dir, 'supervisord.log');
  const ready = async (): Promise<void> => {
    const deadline = Date.now() + 20000;
    for (;;) {
      try {
        const infos = (await client.call('supervisor.getAllProcessInfo')) as Array<{ statename: string }>;
        if (infos.every((i) => i.statename !== 'STARTING')) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`supervisord did not come up (exit ${child.exitCode})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  await ready();
  const kill9 = (): Promise<void> => exit('SIGKILL');
  const restart = async (): Promise<void> => {
    await rm(socket, { force: true });
    child = spawn('supervisord', ['-c', conf], { stdio: 'ignore', detached: false });
    await ready();
  };
  const terminate = (): Promise<void> => exit('SIGTERM');
  return { dir, socket, port, unixUrl, httpUrl: `http://127.0.0.1:${port}`, client, stop, kill9, terminate, restart, log };
}

/** A program that really holds 60 MiB of memory from the moment it starts. */
export const HOG_COMMAND = `node -e "globalThis.b = Buffer.alloc(60 * 1024 * 1024, 1); setInterval(() => {}, 1e6)"`;

/**
 * A program that runs like the hog until `broken` is set; from then on it dies at start, so a
 * restart's startProcess fails (supervisord reports SPAWN_ERROR).
 */
export async function writeFlakyProgram(dir: string): Promise<{ script: string; broken(on: boolean): Promise<void> }> {
  const marker = join(dir, 'flaky-broken');
  const script = join(dir, 'flaky.sh');
  await writeFile(script, `#!/bin/sh\nif [ -e ${marker} ]; then echo broken >&2; exit 1; fi\nexec ${HOG_COMMAND}\n`, { mode: 0o755 });
  return { script, broken: (on) => (on ? writeFile(marker, '') : rm(marker, { force: true })) };
}
