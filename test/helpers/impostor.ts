// A stand-in supervisord, run by an unprivileged user as an attacker would: a small python3
// HTTP server on a unix socket or a TCP address that answers getAllProcessInfo naming any pid
// as web:w0, and records every connection and request (with its Authorization header).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = String.raw`
import json, socketserver, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
kind, where, log, pid = sys.argv[1:5]
PROGRAM = ("<struct><member><name>name</name><value><string>w0</string></value></member>"
           "<member><name>group</name><value><string>web</string></value></member>"
           "<member><name>pid</name><value><int>%s</int></value></member>"
           "<member><name>statename</name><value><string>RUNNING</string></value></member>"
           "<member><name>state</name><value><int>20</int></value></member>"
           "<member><name>start</name><value><int>1</int></value></member></struct>") % pid
def record(entry):
    with open(log, "a") as f:
        f.write(json.dumps(entry) + "\n")
class Handler(BaseHTTPRequestHandler):
    def setup(self):
        record({"event": "connection"})
        super().setup()
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf8", "replace")
        record({"event": "request", "path": self.path, "authorization": self.headers.get("Authorization"), "body": body})
        value = PROGRAM if "getProcessInfo" in body else "<array><data><value>%s</value></data></array>" % PROGRAM
        reply = ("<?xml version='1.0'?><methodResponse><params><param><value>%s</value></param></params></methodResponse>" % value).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *args):
        pass
class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    def get_request(self):
        request, _ = super().get_request()
        return request, ("unix", 0)
if kind == "unix":
    server = UnixServer(where, Handler)
else:
    host, port = where.rsplit(":", 1)
    server = HTTPServer((host, int(port)), Handler)
print("ready", flush=True)
server.serve_forever()
`;

export interface Impostor {
  process: ChildProcess;
  pid: number;
  /** Every connection and request the stand-in received. */
  received(): Promise<Array<{ event: string; authorization?: string | null; body?: string }>>;
  stop(): Promise<void>;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
}

/** The unprivileged user the attack is made as, created when missing (and left for the next run). */
export function testUser(name: string): TestUser {
  if (process.getuid?.() !== 0) throw new Error('these tests reproduce an attack on procguard running as root: run them as root');
  if (spawnSync('id', ['-u', name]).status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', name], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`cannot create the test user ${name}: ${made.stderr}`);
  }
  const id = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  return { name, uid: id('-u'), gid: id('-g') };
}

/** A directory the user can read (for the script) with a log file the user can write. */
export async function impostorDir(user: TestUser): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pg-impostor-'));
  await chmod(dir, 0o755);
  await writeFile(join(dir, 'impostor.py'), SCRIPT, { mode: 0o644 });
  await writeFile(join(dir, 'received.log'), '', { mode: 0o644 });
  await chown(join(dir, 'received.log'), user.uid, user.gid);
  return dir;
}

/** Starts the stand-in as `user` on `unix:PATH` or `tcp:HOST:PORT`, answering with `victimPid` as web:w0. */
export async function startImpostor(user: TestUser, dir: string, listen: { unix: string } | { tcp: string }, victimPid: number): Promise<Impostor> {
  const log = join(dir, 'received.log');
  await writeFile(log, '');
  const [kind, where] = 'unix' in listen ? ['unix', listen.unix] : ['tcp', listen.tcp];
  const child = spawn('python3', [join(dir, 'impostor.py'), kind, where, log, String(victimPid)], { uid: user.uid, gid: user.gid, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => chunk.includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the stand-in exited (${code}): ${stderr}`)));
  });
  return {
    process: child,
    pid: child.pid!,
    received: async () =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}
