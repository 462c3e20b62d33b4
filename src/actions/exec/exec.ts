// The exec notifier: runs the configured argv (no shell) with the event as JSON on stdin and a
// minimal environment plus its `env:`, kills it after the notifier's timeout, and logs what it printed. Its stdout is read here,
// never inherited, so nothing it prints reaches procguard's stdout.

import { spawn } from 'node:child_process';
import { childEnvironment } from '../child-env.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';
import { errorText } from '../../shared/errors.js';

/** The last this many characters of the command's output are logged. */
const OUTPUT_TAIL = 2000;
/** How long the output of a command that has exited is still read, when something it started keeps its pipes open. */
const OUTPUT_GRACE_MS = 500;

export const adapter: Adapter = {
  name: 'exec',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'notification' || work.notifier.type !== 'exec') return { status: 'failed', error: 'the exec adapter only runs exec notifiers' };
    const [command, ...args] = work.notifier.argv;
    if (!command) return { status: 'failed', error: `notifier "${work.notifier.name}" has an empty command` };
    const input = `${JSON.stringify({ ...work.event, subject: work.notification.subject, body: work.notification.body })}\n`;
    const env = childEnvironment(deps.env, work.notifier.env);
    if (typeof env === 'string') return { status: 'failed', error: `notifier "${work.notifier.name}": ${env}` };
    const result = await run(command, args, input, work.notifier.timeout, env, deps);
    const output = result.output.trim();
    if (output) deps.log(`notifier "${work.notifier.name}" (${command}) said: ${output}`);
    if (result.error !== undefined) return { status: 'failed', error: `${command}: ${result.error}` };
    return { status: 'done', detail: `${command} exited 0` };
  },
};

interface RunResult {
  output: string;
  /** Why it failed, or undefined when it exited 0. */
  error?: string;
}

function run(command: string, args: readonly string[], input: string, timeoutSeconds: number, env: Record<string, string>, deps: AdapterDeps): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const finish = (result: RunResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      deps.stopping?.removeEventListener('abort', onStop);
      // Whatever it started may still hold the other ends of its pipes (a daemon in a session of
      // its own, out of reach of the group kill): ours are closed, so they keep nothing open here.
      release();
      resolve(result);
    };
    // Its own process group, so a timeout kills whatever it started too.
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
    const release = (): void => {
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.stdin.on('error', () => undefined); // a command that does not read its stdin is fine
    child.stdin.end(input);
    const cut = (why: string): void => {
      if (settled) return;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      child.unref();
      finish({ output, error: why });
    };
    const timer = setTimeout(() => cut(`did not finish within ${timeoutSeconds}s; killed`), timeoutSeconds * 1000);
    const onStop = (): void => cut('cut short: procguard is stopping; killed');
    if (deps.stopping?.aborted) onStop();
    else deps.stopping?.addEventListener('abort', onStop, { once: true });
    child.once('error', (error) => finish({ output, error: errorText(error, { code: true }) }));
    // Settled on its exit, not on 'close' alone: 'close' waits for every holder of its output to
    // let go, and a process it left behind may hold it for ever. What it printed before exiting is
    // read until 'close', or for OUTPUT_GRACE_MS after the exit at most.
    child.once('exit', (code, signal) => {
      const result = (): RunResult => (code === 0 ? { output } : { output, error: code !== null ? `exited with status ${code}` : `killed by ${signal}` });
      const grace = setTimeout(() => finish(result()), OUTPUT_GRACE_MS);
      child.once('close', () => {
        clearTimeout(grace);
        finish(result());
      });
    });
  });
}
