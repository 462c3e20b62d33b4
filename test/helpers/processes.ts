// Real child processes for the adapter tests: spawned detached (their own process group, so
// a stopped one never stops the test runner), looked at through /proc, and always cleaned up.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readProcessState, readStartTime } from '../../src/host/proc.js';

export interface Child {
  pid: number;
  start_time: number;
  process: ChildProcess;
  /** The /proc state letter (S, T, …), undefined once it has exited. */
  state(): string | undefined;
  kill(): void;
}

const children = new Set<Child>();

export async function spawnChild(command: string, args: readonly string[] = []): Promise<Child> {
  const process = spawn(command, args, { stdio: 'ignore', detached: true });
  const pid = process.pid;
  if (pid === undefined) throw new Error(`cannot spawn ${command}`);
  let start: number | undefined;
  for (let i = 0; i < 100 && start === undefined; i += 1) {
    start = readStartTime(pid);
    if (start === undefined) await sleep(10);
  }
  if (start === undefined) throw new Error(`${command} exited at once`);
  const child: Child = {
    pid,
    start_time: start,
    process,
    state: () => readProcessState(pid),
    kill: () => {
      for (const signal of ['SIGCONT', 'SIGKILL'] as const) {
        try {
          globalThis.process.kill(-pid, signal);
        } catch {
          // already gone
        }
      }
      children.delete(child);
    },
  };
  children.add(child);
  return child;
}

/** The pids of a process' children, from /proc. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function killAllChildren(): void {
  for (const child of [...children]) child.kill();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits until `condition` holds, or fails after `ms`. */
export async function eventually(condition: () => boolean | Promise<boolean>, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
