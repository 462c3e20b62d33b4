// The status page against a local user: an empty login refused at start, /healthz telling an
// anonymous caller only ok or failing, a user holding sockets by the hundred (run as a real
// unprivileged user when the tests run as root) unable to take the daemon's file descriptors,
// and a process named with bidirectional and zero-width characters shown escaped.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logEvents } from '../helpers/log-events.js';
import { eventually, killAllChildren, spawnChild } from '../helpers/processes.js';
import { BIN, runProcguard, STACK_TRACE } from '../helpers/run-cli.js';
import { IDLE_TIMEOUT_MS } from '../../src/status/server.js';

const LOCAL_USER = 'pgtest-stop';
const LOGIN = { username: 'viewer', password: 'l00k-only' };
const auth = `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString('base64')}`;

/** uid and gid of the unprivileged user, created when missing; undefined when not running as root. */
function localUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  if (spawnSync('id', ['-u', LOCAL_USER]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', LOCAL_USER], { encoding: 'utf8' });
    assert.equal(made.status, 0, `useradd ${LOCAL_USER}: ${made.stderr}`);
  }
  const id = (flag: string): number => Number(spawnSync('id', [flag, LOCAL_USER], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

describe('integration: the status page against a local user', function () {
  this.timeout(60000);
  let work: string;
  let conf: string;
  let daemon: ChildProcess | undefined;
  let stderr = '';

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-status-hard-'));
    conf = join(work, 'procguard');
    await mkdir(conf);
    await writeFile(join(work, 'loadavg'), '0.10 1.00 1.00 1/200 4242\n');
    stderr = '';
  });
  afterEach(async () => {
    if (daemon && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon!.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
    daemon = undefined;
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', TZ: 'UTC', PROCGUARD_LOADAVG: join(work, 'loadavg'), ...extra });

  async function startDaemon(policies: string): Promise<string> {
    await writeFile(join(conf, 'policies.yaml'), `settings:\n  state_dir: ${join(work, 'state')}\npolicies:\n${policies}`);
    daemon = spawn(process.execPath, [BIN, 'run', '-c', conf, '--interval', '1s', '--listen', '127.0.0.1:0'], {
      env: env({ PROCGUARD_LISTEN_USERNAME: LOGIN.username, PROCGUARD_LISTEN_PASSWORD: LOGIN.password }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await eventually(() => logEvents(stderr).some((e) => e.event === 'listen' && typeof e.url === 'string'), 15000, 'the status page listening');
    return String(logEvents(stderr).find((e) => e.event === 'listen')!.url);
  }

  const quiet = '  - { name: quiet, kind: load, match: { cmdline: "^nothing-runs-this$" }, pause_above: 99 }\n';

  it('an empty PROCGUARD_LISTEN_PASSWORD (or user name) is refused at start: exit 2, nothing started', async () => {
    await writeFile(join(conf, 'policies.yaml'), `settings:\n  state_dir: ${join(work, 'state')}\npolicies:\n${quiet}`);
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ PROCGUARD_LISTEN_USERNAME: 'viewer', PROCGUARD_LISTEN_PASSWORD: '' }, /--listen: PROCGUARD_LISTEN_PASSWORD is empty; give a password, or unset both/],
      [{ PROCGUARD_LISTEN_USERNAME: '', PROCGUARD_LISTEN_PASSWORD: 'x' }, /--listen: PROCGUARD_LISTEN_USERNAME is empty/],
    ];
    for (const [login, expected] of cases) {
      const run = await runProcguard(['run', '-c', conf, '--listen', '127.0.0.1:0'], { env: env(login) });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, expected);
      assert.doesNotMatch(run.stderr, STACK_TRACE);
      assert.doesNotMatch(run.stderr, /status page on/);
    }
  });

  it('/healthz tells an anonymous caller only ok or failing; the reason is behind the login', async () => {
    const base = await startDaemon(quiet);
    await eventually(async () => (await fetch(`${base}/healthz`, { headers: { authorization: auth } }).then((r) => r.text())) === 'ok\n', 10000, 'healthy');
    assert.equal(await (await fetch(`${base}/healthz`)).text(), 'ok\n');
    // The state directory replaced by a file: every cycle now fails.
    await rm(join(work, 'state'), { recursive: true, force: true });
    await writeFile(join(work, 'state'), 'not a directory\n');
    await eventually(async () => (await fetch(`${base}/healthz`)).status === 503, 10000, 'failing');
    const anonymous = await fetch(`${base}/healthz`);
    assert.deepEqual([anonymous.status, await anonymous.text()], [503, 'failing\n']);
    const viewer = await fetch(`${base}/healthz`, { headers: { authorization: auth } });
    assert.equal(viewer.status, 503);
    assert.match(await viewer.text(), /^failing: cycle skipped: cannot take the lock in the state directory .*: it is not a directory/);
    const wrong = await fetch(`${base}/healthz`, { headers: { authorization: `Basic ${Buffer.from('viewer:nope').toString('base64')}` } });
    assert.equal(await wrong.text(), 'failing\n');
  });

  it(`a local user (${LOCAL_USER}) holding 300 sockets gets at most 64; the daemon's descriptors stay bounded and the page answers once they go`, async () => {
    const base = await startDaemon(quiet);
    const pid = daemon!.pid!;
    const fds = async (): Promise<number> => (await readdir(`/proc/${pid}/fd`)).length;
    await eventually(async () => (await fetch(`${base}/healthz`)).ok, 10000, 'healthy');
    const before = await fds();
    const { port } = new URL(base);
    const holder = `
      const net = require('node:net');
      let open = 0, refused = 0;
      const sockets = [];
      for (let i = 0; i < 300; i += 1) {
        const socket = net.connect(${port}, '127.0.0.1');
        sockets.push(socket);
        socket.on('connect', () => { open += 1; });
        socket.on('error', () => {});
        socket.on('close', () => { refused += 1; });
      }
      setInterval(() => process.stdout.write(JSON.stringify({ open, refused }) + '\\n'), 200);
    `;
    const user = localUser();
    const held = spawn(process.execPath, ['-e', holder], { stdio: ['ignore', 'pipe', 'inherit'], ...(user ?? {}) });
    let report = { open: 0, refused: 0 };
    held.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const last = chunk.trim().split('\n').pop();
      if (last) report = JSON.parse(last) as typeof report;
    });
    try {
      await eventually(() => report.open === 300 && report.refused >= 300 - 64, 15000, 'all 300 connected, and all past 64 closed by the daemon');
      const during = await fds();
      assert.ok(during - before <= 64 + 4, `the daemon holds ${during} descriptors, ${before} before`);
      assert.ok(300 - report.refused <= 64, `the user holds ${300 - report.refused} connections`);
    } finally {
      held.kill('SIGKILL');
      await new Promise((resolve) => held.once('exit', resolve));
    }
    await eventually(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.ok === true, 10000, 'the page answering again');
    assert.equal(daemon!.exitCode, null, 'the daemon still runs');
  });

  /** GET /healthz on a connection of its own (never one kept alive from before): its body, or undefined when refused or not answered within a second. */
  function freshHealthz(url: string): Promise<string | undefined> {
    return new Promise((resolve) => {
      const request = http.get(url, { agent: false, timeout: 1000 }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(response.statusCode === 200 ? body : undefined));
        response.on('error', () => resolve(undefined));
      });
      request.on('timeout', () => request.destroy());
      request.on('error', () => resolve(undefined));
    });
  }

  for (const reconnect of [false, true]) {
    it(`a local user (${LOCAL_USER}) holding 200 idle sockets${reconnect ? ', opening a new one a second after each is closed,' : ''} cannot shut the page off: they are closed within ${IDLE_TIMEOUT_MS / 1000} s, and /healthz answers`, async () => {
      const base = await startDaemon(quiet);
      await eventually(async () => (await freshHealthz(`${base}/healthz`)) === 'ok\n', 10000, 'healthy');
      const { port } = new URL(base);
      // Sockets that connect and never send a byte. With reconnect, each one closed is opened
      // again a second later: a bounded rate, as a user would keep the slots taken.
      const holder = `
        const net = require('node:net');
        let open = 0, connects = 0, closed = 0;
        const hold = () => {
          const socket = net.connect(${port}, '127.0.0.1');
          socket.on('connect', () => { open += 1; connects += 1; });
          socket.on('error', () => {});
          socket.on('close', (hadError) => {
            closed += 1;
            if (${reconnect}) setTimeout(hold, 1000);
          });
        };
        for (let i = 0; i < 200; i += 1) hold();
        setInterval(() => process.stdout.write(JSON.stringify({ connects, closed }) + '\\n'), 200);
      `;
      const user = localUser();
      const held = spawn(process.execPath, ['-e', holder], { stdio: ['ignore', 'pipe', 'inherit'], ...(user ?? {}) });
      let report = { connects: 0, closed: 0 };
      held.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        const last = chunk.trim().split('\n').pop();
        if (last) report = JSON.parse(last) as typeof report;
      });
      try {
        await eventually(() => report.connects >= 200, 15000, 'all 200 connected');
        if (!reconnect) {
          // Every socket closed by the daemon, the 64 it kept too, while the user still holds them.
          await eventually(() => report.closed === 200, IDLE_TIMEOUT_MS + 5000, 'every idle socket closed by the daemon');
        }
        let answered = false;
        await eventually(
          async () => {
            answered = (await freshHealthz(`${base}/healthz`)) === 'ok\n';
            return answered;
          },
          IDLE_TIMEOUT_MS + 10000,
          '/healthz answering while the user holds its sockets',
        );
        assert.equal(held.exitCode, null, 'the user still holds its sockets');
        assert.ok(report.closed >= 64, `the daemon closed ${report.closed} sockets`);
      } finally {
        held.kill('SIGKILL');
        await new Promise((resolve) => held.once('exit', resolve));
      }
      assert.equal(daemon!.exitCode, null, 'the daemon still runs');
    });
  }

  for (const keep of ['a blank line every 2 s', 'pipelined requests every 2 s, never read'] as const) {
    it(`a local user (${LOCAL_USER}) holding 70 connections that each got an answer, then sends ${keep}, cannot shut the page off: one request per connection`, async () => {
      const base = await startDaemon(quiet);
      await eventually(async () => (await freshHealthz(`${base}/healthz`)) === 'ok\n', 10000, 'healthy');
      const { port } = new URL(base);
      const extra = keep === 'a blank line every 2 s' ? "'\\r\\n'" : "'GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'.repeat(5)";
      // Each socket makes one whole request, reads its answer, then keeps sending to stay open.
      const holder = `
        const net = require('node:net');
        let answered = 0, closed = 0;
        for (let i = 0; i < 70; i += 1) {
          const socket = net.connect(${port}, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'));
          let first = true;
          socket.on('data', () => { if (first) { first = false; answered += 1; } });
          socket.on('error', () => {});
          socket.on('close', () => { closed += 1; });
          const timer = setInterval(() => socket.writable && socket.write(${extra}), 2000);
          socket.on('close', () => clearInterval(timer));
        }
        setInterval(() => process.stdout.write(JSON.stringify({ answered, closed }) + '\\n'), 200);
      `;
      const user = localUser();
      const held = spawn(process.execPath, ['-e', holder], { stdio: ['ignore', 'pipe', 'inherit'], ...(user ?? {}) });
      let report = { answered: 0, closed: 0 };
      held.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        const last = chunk.trim().split('\n').pop();
        if (last) report = JSON.parse(last) as typeof report;
      });
      try {
        await eventually(() => report.answered >= 64, 15000, 'the user answered on 64 connections');
        await eventually(() => report.closed === 70, IDLE_TIMEOUT_MS + 10000, 'every connection closed by the daemon though the user keeps writing');
        assert.equal(await freshHealthz(`${base}/healthz`), 'ok\n');
        assert.equal(held.exitCode, null, 'the user still runs');
      } finally {
        held.kill('SIGKILL');
        await new Promise((resolve) => held.once('exit', resolve));
      }
    });
  }

  it('a process named with bidirectional and zero-width characters is shown escaped on the page, as in the CLI', async () => {
    const name = 'ev\u202eil\u200bx';
    const binary = join(work, name);
    await copyFile('/bin/sleep', binary);
    spawnSync('chmod', ['755', binary]);
    const unique = `4351.${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const child = await spawnChild(binary, [unique]);
    const base = await startDaemon(`  - { name: odd, kind: load, match: { cmdline: " ${unique.replace('.', '[.]')}$" }, pause_above: 99 }\n`);
    let page = '';
    await eventually(
      async () => {
        page = await (await fetch(`${base}/`, { headers: { authorization: auth } })).text();
        return page.includes(`(pid ${child.pid})`) || page.includes(`<td class="num">${child.pid}</td>`);
      },
      10000,
      'the process on the page',
    );
    assert.ok(!/[\u202a-\u202e\u2066-\u2069\u200b-\u200f]/.test(page), 'no raw bidirectional or zero-width character on the page');
    assert.ok(page.includes('ev\\u202eil\\u200bx'), 'the name with its characters written as escapes');
  });
});
