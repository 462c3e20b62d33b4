// A supervisord that misbehaves, played by an HTTP server in the test: replies that trickle,
// never end, are huge, are not XML-RPC, have the wrong shape, or a connection cut. check and
// apply say which supervisor failed and how, in bounded time, and every other policy still
// works; nothing is acted on from a reply procguard could not read.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import serializer from 'xmlrpc/lib/serializer.js';
import type { Plan } from '../../src/data/types.js';
import { killAllChildren, spawnChild, type Child } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE } from '../helpers/run-cli.js';

type Behaviour = (request: http.IncomingMessage, response: http.ServerResponse) => void;

const VALID_REPLY = serializer.serializeMethodResponse([{ name: 'w1', group: 'web', pid: 1, statename: 'RUNNING', start: 1 }]);

const BEHAVIOURS: Array<{ name: string; behave: Behaviour; message: RegExp }> = [
  {
    name: 'a reply trickled one byte every 100 ms',
    behave: (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/xml' });
      let i = 0;
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(VALID_REPLY[i % VALID_REPLY.length] ?? ' ');
        i += 1;
      }, 100);
      response.on('close', () => clearInterval(timer));
    },
    message: /supervisor "broken" at http:\/\/127\.0\.0\.1:\d+ did not answer supervisor\.getAllProcessInfo within 2s/,
  },
  {
    name: 'headers and then silence',
    behave: (_request, response) => response.writeHead(200, { 'Content-Type': 'text/xml' }).flushHeaders(),
    message: /did not answer supervisor\.getAllProcessInfo within 2s/,
  },
  { name: 'no answer at all', behave: () => undefined, message: /did not answer supervisor\.getAllProcessInfo within 2s/ },
  {
    name: 'a 40 MiB reply',
    behave: (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/xml' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const write = (): void => {
        while (sent < 40 && !response.destroyed && response.write(chunk)) sent += 1;
        if (sent < 40 && !response.destroyed) response.once('drain', write);
        else response.end();
      };
      write();
    },
    message: /sent a reply larger than 32 MiB to supervisor\.getAllProcessInfo/,
  },
  {
    name: 'an HTML page',
    behave: (_request, response) => response.end('<html><body>502 Bad Gateway</body></html>'),
    message: /sent a reply that is not XML-RPC \(<html> at offset 0 where <methodResponse> was expected\); is the URL right\?/,
  },
  { name: 'a reply cut in the middle', behave: (_request, response) => response.end(VALID_REPLY.slice(0, 120)), message: /sent a reply that is not XML-RPC/ },
  { name: 'binary noise', behave: (_request, response) => response.end(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x3c])), message: /sent a reply that is not XML-RPC/ },
  {
    name: 'a struct where a list belongs',
    behave: (_request, response) => response.end(serializer.serializeMethodResponse({ name: 'w1' })),
    message: /answered getAllProcessInfo with object, not a list/,
  },
  {
    name: 'an entry without a pid',
    behave: (_request, response) => response.end(serializer.serializeMethodResponse([{ name: 'w1', group: 'web', statename: 'RUNNING' }])),
    message: /answered getAllProcessInfo with a malformed entry at index 0/,
  },
  {
    name: 'a negative pid',
    behave: (_request, response) => response.end(serializer.serializeMethodResponse([{ name: 'w1', group: 'web', pid: -1, statename: 'RUNNING' }])),
    message: /malformed entry at index 0/,
  },
  { name: 'HTTP 500', behave: (_request, response) => response.writeHead(500, 'Internal Server Error').end('boom'), message: /answered HTTP 500 Internal Server Error/ },
  { name: 'a connection cut before any reply', behave: (request) => request.socket.destroy(), message: /cannot reach supervisor "broken" at http:\/\/127\.0\.0\.1:\d+: (ECONNRESET|socket hang up)/ },
  {
    name: 'a connection cut mid-reply',
    behave: (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/xml' });
      response.write(VALID_REPLY.slice(0, 80));
      setTimeout(() => response.socket?.destroy(), 50);
    },
    message: /supervisor "broken" at http:\/\/127\.0\.0\.1:\d+: (aborted|socket hang up|ECONNRESET)|sent a reply that is not XML-RPC/,
  },
];

describe('hardening: a misbehaving supervisord', function () {
  this.timeout(30000);
  let server: http.Server;
  let behave: Behaviour = () => undefined;
  let url: string;
  let work: string;
  let config: string;
  let bystander: Child;

  before(async () => {
    server = http.createServer((request, response) => {
      request.resume();
      request.on('end', () => behave(request, response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-xmlrpc-'));
    config = join(work, 'p.yaml');
    bystander = await spawnChild('sleep', ['4343']);
    await writeFile(
      config,
      `settings: { state_dir: ${join(work, 'state')} }
supervisors:
  broken: { url: "${url}", timeout: 2s }
policies:
  - { name: web-memory, kind: memory, match: { program: "*" }, max_rss: 1KB }
  - { name: bystander, kind: memory, mode: audit, match: { cmdline: "^sleep 4343$" }, max_rss: 1KB, action: kill }
`,
    );
  });
  afterEach(async () => {
    server.closeAllConnections();
    killAllChildren();
    await rm(work, { recursive: true, force: true });
  });

  for (const { name, behave: behaviour, message } of BEHAVIOURS) {
    it(`${name}: check and apply exit 3 naming the supervisor; the other policy still works`, async () => {
      behave = behaviour;
      for (const verb of ['check', 'apply']) {
        const run = await runProcguard([verb, '-c', config, '--json']);
        assert.equal(run.code, 3, `${verb}: ${run.stdout}${run.stderr}`);
        assert.doesNotMatch(run.stderr, STACK_TRACE);
        const plan = JSON.parse(run.stdout) as Plan;
        assert.deepEqual(
          plan.errors.map((e) => e.source),
          ['supervisor:broken'],
        );
        assert.match(plan.errors[0]?.message ?? '', message);
        assert.deepEqual(
          plan.actions.map((a) => [a.policy, a.target.pid, a.status]),
          [['bystander', bystander.pid, 'skipped']],
        );
      }
      assert.ok(bystander.state() !== undefined && bystander.state() !== 'Z');
      const state = JSON.parse(await readFile(join(work, 'state', 'state.json'), 'utf8')) as { version: number };
      assert.equal(state.version, 1);
    });
  }
});
