// Real Prometheus, promtool and Alertmanager (Debian's prometheus and prometheus-alertmanager
// packages), started with a temporary configuration and data directory on a free loopback port,
// and stopped afterwards. Without them the tests fail, saying what to install: never skipped.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './processes.js';
import { freePort } from './supervisord.js';

export function requireCommand(command: string, debianPackage: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
  if (!found) throw new Error(`${command} is not installed: apt-get install -y ${debianPackage} (the tests need a real one)`);
}

export interface Server {
  url: string;
  dir: string;
  /** What it printed, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

async function startServer(command: string, args: (dir: string, port: number) => string[], config: (dir: string) => Promise<void>, ready: string): Promise<Server> {
  const dir = await mkdtemp(join(tmpdir(), `pg-${command}-`));
  await config(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(command, args(dir, port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-20000)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output = (output + chunk).slice(-20000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${command} exited with status ${child.exitCode}: ${output}`);
        return (await fetch(`${url}${ready}`).catch(() => undefined))?.status === 200;
      },
      30000,
      `${command} ready on ${url}`,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, dir, output: () => output, stop };
}

/** Prometheus with this prometheus.yml (written in its directory, where relative paths in it point). */
export function startPrometheus(config: (dir: string) => string, files: Record<string, string> = {}): Promise<Server> {
  requireCommand('prometheus', 'prometheus');
  return startServer(
    'prometheus',
    (dir, port) => [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    async (dir) => {
      for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
      await writeFile(join(dir, 'prometheus.yml'), config(dir));
    },
    '/-/ready',
  );
}

/**
 * Alertmanager with one receiver: nowhere, or a webhook (firing and resolved notifications, sent
 * at once); the alerts are also read back through its API. Cluster mode off.
 */
export function startAlertmanager(webhook?: string): Promise<Server> {
  const receiver = webhook === undefined ? '' : `    webhook_configs:\n      - { url: '${webhook}', send_resolved: true }\n`;
  requireCommand('prometheus-alertmanager', 'prometheus-alertmanager');
  return startServer(
    'prometheus-alertmanager',
    (dir, port) => [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    (dir) =>
      writeFile(
        join(dir, 'alertmanager.yml'),
        `route:\n  receiver: test\n  group_by: [alertname, host, policy, program]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: test\n${receiver}`,
      ),
    '/-/ready',
  );
}

/** One instant query; the vector it returns. */
export async function query(prometheus: Server, expression: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expression)}`);
  const body = (await response.json()) as { status: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
  if (body.status !== 'success' || !body.data) throw new Error(`query ${expression}: ${body.error ?? response.status}`);
  return body.data.result;
}

/** promtool with these arguments and standard input. */
export function promtool(args: string[], input?: string, cwd?: string): { status: number | null; output: string } {
  requireCommand('promtool', 'prometheus');
  const run = spawnSync('promtool', args, { input: input ?? '', encoding: 'utf8', ...(cwd !== undefined ? { cwd } : {}) });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
