// The mail adapter against a real SMTP server and a sendmail capture script, and the exec
// notifier against real commands: headers, argv without a shell, failures and timeouts.
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapter as exec } from '../../src/actions/exec/exec.js';
import { adapter as mail } from '../../src/actions/mail/mail.js';
import type { AdapterDeps, Outcome, Work } from '../../src/actions/types.js';
import type { MailNotifier, NotifierConfig } from '../../src/policy/model.js';
import { readCaptured, startSmtpSink, writeCaptureScript, type SmtpSink } from '../helpers/mail.js';
import { spawnChild, killAllChildren, eventually } from '../helpers/processes.js';
import { runProcguard } from '../helpers/run-cli.js';
import { freePort } from '../helpers/supervisord.js';

const source = { file: 'n.yaml', line: 1, column: 1 };

/** RFC 2047 encoded words (B or Q) back to text. */
function decodeWords(value: string): string {
  return value
    .replace(/\s*=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
            'latin1',
          ).toString('utf8'),
    )
    .trim();
}
const NOW = 1795266602; // Sat, 21 Nov 2026 13:10:02 GMT
const logged: string[] = [];
const deps = { env: { PAGER_TOKEN: 't0ken' }, now: () => NOW, hostname: 'web1', log: (line: string) => logged.push(line) } as unknown as AdapterDeps;

const notification = { policy: 'web-memory', to: 'ops', subject: 'memmon [web]: process web:w1 restarted', body: 'line one\n.\nline three\n' };

function mailer(transport: MailNotifier['transport'], extra: Partial<MailNotifier> = {}): MailNotifier {
  return { type: 'mail', name: 'ops', to: ['ops@example.com', 'dev@example.com'], transport, timeout: 5, source, ...extra };
}

const send = (notifier: NotifierConfig, event: Record<string, unknown> = {}): Promise<Outcome> => {
  const work: Work = { type: 'notification', notification: { ...notification, to: notifier.name }, notifier, event };
  return (notifier.type === 'mail' ? mail : exec).execute(work, deps);
};

describe('mail adapter', function () {
  this.timeout(20000);
  let dir: string;
  let smtp: SmtpSink;
  before(async () => {
    smtp = await startSmtpSink();
  });
  after(() => smtp.close());
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-mail-'));
    smtp.messages.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('delivers to a real SMTP server with From, Date, To, Subject and the plain-text body', async () => {
    const outcome = await send(mailer({ type: 'smtp', url: smtp.url }, { from: 'procguard@example.com' }));
    assert.deepEqual(outcome, { status: 'done', detail: `mailed ops@example.com, dev@example.com via ${smtp.url}` });
    const [message] = smtp.messages;
    assert.ok(message);
    assert.deepEqual([message.from, message.to], ['procguard@example.com', ['ops@example.com', 'dev@example.com']]);
    assert.equal(message.headers.get('subject'), 'memmon [web]: process web:w1 restarted');
    assert.equal(message.headers.get('from'), 'procguard@example.com');
    assert.equal(message.headers.get('to'), 'ops@example.com, dev@example.com');
    assert.equal(message.headers.get('date'), 'Sat, 21 Nov 2026 13:10:02 +0000');
    assert.match(message.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(message.body.replace(/\n$/, ''), 'line one\n.\nline three');
  });

  it('SMTP with a login: the password from the URL or from password_env is used, and never shown', async () => {
    const logins: string[] = [];
    const guarded = await startSmtpSink({ onAuth: (user, pass) => logins.push(`${user}/${pass}`) });
    try {
      const [host, port] = ['127.0.0.1', guarded.port];
      const inUrl = await send(mailer({ type: 'smtp', url: `smtp://mailer:hunter2@${host}:${port}` }));
      assert.deepEqual(inUrl, { status: 'done', detail: `mailed ops@example.com, dev@example.com via smtp://mailer:***@${host}:${port}` });
      const fromEnv = await send(mailer({ type: 'smtp', url: `smtp://${host}:${port}`, username: 'pager', password: { env: 'PAGER_TOKEN' } }));
      assert.equal(fromEnv.status, 'done');
      assert.deepEqual(logins, ['mailer/hunter2', 'pager/t0ken']);
      const unset = await send(mailer({ type: 'smtp', url: `smtp://${host}:${port}`, username: 'pager', password: { env: 'NOT_SET' } }));
      assert.deepEqual(unset, { status: 'failed', error: 'mail to ops@example.com, dev@example.com failed: the password variable NOT_SET is not set' });
    } finally {
      await guarded.close();
    }
  });

  it('defaults From to procguard@<hostname>', async () => {
    await send(mailer({ type: 'smtp', url: smtp.url }));
    assert.equal(smtp.messages[0]?.headers.get('from'), 'procguard@web1');
  });

  it('an SMTP server that is down is a failure that names the address', async () => {
    const port = await freePort();
    const outcome = await send(mailer({ type: 'smtp', url: `smtp://127.0.0.1:${port}` }));
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.error : '', new RegExp(`^mail to ops@example.com, dev@example.com failed: .*ECONNREFUSED 127.0.0.1:${port}`));
  });

  it('sendmail -t -i: the message on stdin, recipients only in To: (as memmon), no shell', async () => {
    const script = await writeCaptureScript(dir);
    const outcome = await send(mailer({ type: 'sendmail', command: `${script} -t -i`, argv: [script, '-t', '-i'] }));
    assert.equal(outcome.status, 'done');
    const [captured] = await readCaptured(dir);
    assert.ok(captured);
    // -i once: the command's own, not a second one of nodemailer's.
    assert.deepEqual(captured.args, ['-t', '-i']);
    assert.equal(captured.headers.get('to'), 'ops@example.com, dev@example.com');
    assert.equal(captured.headers.get('from'), 'procguard@web1');
    assert.equal(captured.headers.get('subject'), 'memmon [web]: process web:w1 restarted');
    assert.equal(captured.headers.get('date'), 'Sat, 21 Nov 2026 13:10:02 +0000');
    assert.equal(captured.body.replace(/\n$/, ''), 'line one\n.\nline three');
  });

  // memmon's one-line body, 150 characters, and a process name that is not ASCII.
  const longLine = `memmon: process web:wörker-é restarted: ${'rss 2.1GB over 2GB '.repeat(6)}`.slice(0, 150);
  const memmonBody = `${longLine}\n\ncommand:    python3 -m worker --queue high\nlast line\n`;
  const sendBody = async (notifier: MailNotifier, body: string, subject = notification.subject): Promise<void> => {
    const work: Work = { type: 'notification', notification: { ...notification, subject, body, to: notifier.name }, notifier, event: {} };
    assert.equal((await mail.execute(work, deps)).status, 'done');
  };
  const rawCaptured = async (): Promise<string> => {
    const names = (await readdir(dir)).filter((name) => name.endsWith('.eml'));
    return readFile(join(dir, names[0] ?? ''), 'utf8');
  };

  it('the message handed to sendmail ends every line with LF alone, and a long body line arrives whole, as written', async () => {
    const script = await writeCaptureScript(dir);
    await sendBody(mailer({ type: 'sendmail', command: `${script} -t -i`, argv: [script, '-t', '-i'] }), memmonBody, 'memmon: wörker-é restarted');
    const raw = await rawCaptured();
    assert.ok(!raw.includes('\r'), JSON.stringify(raw));
    assert.equal(longLine.length, 150);
    // The line as rendered, unbroken in the raw mail, in UTF-8 as the charset says.
    assert.ok(raw.split('\n').includes(longLine), raw);
    const [captured] = await readCaptured(dir);
    assert.equal(captured?.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(captured?.headers.get('content-transfer-encoding'), '8bit');
    assert.equal(captured?.body, memmonBody);
    // The subject is encoded (RFC 2047) and decodes to what was rendered.
    assert.match(captured?.headers.get('subject') ?? '', /^=\?UTF-8\?/);
    assert.equal(decodeWords(captured?.headers.get('subject') ?? ''), 'memmon: wörker-é restarted');
  });

  it('an ASCII body goes 7bit; a line longer than SMTP allows (998 bytes) is left to quoted-printable, and decodes to what was rendered', async () => {
    const script = await writeCaptureScript(dir);
    const notifier = mailer({ type: 'sendmail', command: `${script} -t -i`, argv: [script, '-t', '-i'] });
    const ascii = `${'x'.repeat(150)}\nshort\n`;
    const huge = `${'y'.repeat(1200)}\nshort\n`;
    await sendBody(notifier, ascii);
    await sendBody(notifier, huge);
    const captured = await readCaptured(dir);
    const byBody = new Map(captured.map((m) => [m.body, m]));
    assert.equal(byBody.get(ascii)?.headers.get('content-transfer-encoding'), '7bit');
    assert.equal(byBody.get(huge)?.headers.get('content-transfer-encoding'), 'quoted-printable');
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.eml'))) {
      const raw = await readFile(join(dir, name), 'utf8');
      assert.ok(!raw.includes('\r'));
      assert.ok(raw.split('\n').every((line) => line.length <= 998));
    }
  });

  it('SMTP: the long non-ASCII line arrives whole, CRLF throughout, announced as 8BITMIME, decoded text equal to what was rendered', async () => {
    await sendBody(mailer({ type: 'smtp', url: smtp.url }), memmonBody);
    const [message] = smtp.messages;
    assert.ok(message);
    assert.equal(message.bodyType, '8bitmime');
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(message.data), 'one line ending, CRLF');
    assert.ok(message.data.split('\r\n').includes(longLine), message.data);
    assert.equal(message.headers.get('content-transfer-encoding'), '8bit');
    assert.equal(message.body, memmonBody);
  });

  it('a header value cannot add a header: CR and LF in a subject stay inside it', async () => {
    const script = await writeCaptureScript(dir);
    await sendBody(mailer({ type: 'sendmail', command: `${script} -t -i`, argv: [script, '-t', '-i'] }), 'body\n', 'hi\r\nBcc: evil@example.com');
    const [captured] = await readCaptured(dir);
    assert.equal(captured?.headers.get('bcc'), undefined);
    assert.deepEqual(captured?.args, ['-t', '-i']);
  });

  it('a command run by the shell (procguard memmon -s) gets the message on stdin and no argument added', async () => {
    const script = await writeCaptureScript(dir);
    const command = `${script} -t | cat > /dev/null`;
    const outcome = await send(mailer({ type: 'sendmail', command, argv: ['/bin/sh', '-c', command], shell: true }));
    assert.equal(outcome.status, 'done');
    const [captured] = await readCaptured(dir);
    assert.deepEqual(captured?.args, ['-t']);
    assert.equal(captured?.headers.get('to'), 'ops@example.com, dev@example.com');
  });

  it('sendmail without -t gets the recipients as arguments; shell characters stay literal', async () => {
    const script = await writeCaptureScript(dir);
    const outcome = await send(mailer({ type: 'sendmail', command: `${script} -oi '$(touch pwned)'`, argv: [script, '-oi', '$(touch pwned);'] }));
    assert.equal(outcome.status, 'done');
    const [captured] = await readCaptured(dir);
    assert.deepEqual(captured?.args, ['-oi', '$(touch pwned);', 'ops@example.com', 'dev@example.com']);
    await assert.rejects(readFile(join(dir, 'pwned')), /ENOENT/);
  });

  it('-t is read as a flag only: -ti reads the headers, -fmonitor@… and -oi pass the recipients', async () => {
    const cases: Array<[string[], string[]]> = [
      [['-ti'], ['-ti']],
      [
        ['-fmonitor@example.com', '-oi'],
        ['-fmonitor@example.com', '-oi', 'ops@example.com', 'dev@example.com'],
      ],
      // No -i of its own: one is added, so a line holding only a dot does not end the message.
      [['-t'], ['-i', '-t']],
    ];
    for (const [index, [args, expected]] of cases.entries()) {
      const own = join(dir, String(index));
      await mkdir(own);
      const script = await writeCaptureScript(own);
      assert.equal((await send(mailer({ type: 'sendmail', command: [script, ...args].join(' '), argv: [script, ...args] }))).status, 'done');
      assert.deepEqual(
        (await readCaptured(own)).map((m) => m.args),
        [expected],
      );
    }
  });

  it('a sendmail that exits non-zero, is missing, or hangs is a failure that says which', async () => {
    const failing = await writeCaptureScript(dir, { exitCode: 75 });
    const hanging = join(dir, 'hang.sh');
    await writeFile(hanging, '#!/bin/sh\nsleep 30\n');
    await chmod(hanging, 0o755);
    const cases: Array<[string[], RegExp]> = [
      [[failing, '-t'], /failed: Sendmail exited with code 75$/],
      [[join(dir, 'no-such-sendmail'), '-t'], /failed: spawn .*no-such-sendmail ENOENT$/],
      [[hanging], /failed: .*hang\.sh did not finish within 1s; cut short$/],
    ];
    for (const [argv, expected] of cases) {
      const outcome = await send(mailer({ type: 'sendmail', command: argv.join(' '), argv }, { timeout: 1 }));
      assert.equal(outcome.status, 'failed', argv[0]);
      assert.match(outcome.status === 'failed' ? outcome.error : '', expected);
    }
  });
});

describe('exec notifier', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-exec-'));
    logged.length = 0;
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  async function script(body: string): Promise<string> {
    const path = join(dir, `notify-${Math.random().toString(36).slice(2)}.sh`);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  }

  it('runs the argv without a shell, with the event as JSON on stdin and its output logged', async () => {
    const path = await script(`cat > ${dir}/stdin.json; printf '%s\\n' "$@" > ${dir}/args; echo "paged: $PAGER_TOKEN"`);
    const notifier: NotifierConfig = { type: 'exec', name: 'pager', argv: [path, '--json', '$HOME;x'], env: { PAGER_TOKEN: { fromEnv: 'PAGER_TOKEN' } }, timeout: 5, source };
    const outcome = await send(notifier, { host: 'web1', policy: 'web-memory', action: 'restart', status: 'done' });
    assert.deepEqual(outcome, { status: 'done', detail: `${path} exited 0` });
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'stdin.json'), 'utf8')), {
      host: 'web1',
      policy: 'web-memory',
      action: 'restart',
      status: 'done',
      subject: notification.subject,
      body: notification.body,
    });
    assert.equal(await readFile(join(dir, 'args'), 'utf8'), '--json\n$HOME;x\n');
    assert.deepEqual(logged, [`notifier "pager" (${path}) said: paged: t0ken`]);
  });

  it('a non-zero exit, a missing command and a timeout are failures', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[await script('echo oops >&2; exit 3')], /: exited with status 3$/],
      [[join(dir, 'missing')], /missing: .*ENOENT/],
      [[await script('sleep 30')], /: did not finish within 1s; killed$/],
    ];
    for (const [argv, expected] of cases) {
      const outcome = await send({ type: 'exec', name: 'pager', argv, timeout: 1, source });
      assert.equal(outcome.status, 'failed', argv[0]);
      assert.match(outcome.status === 'failed' ? outcome.error : '', expected);
    }
    assert.ok(
      logged.some((line) => line.endsWith('said: oops')),
      'the output of the failing command is logged',
    );
  });
});

describe('the environment of sendmail and exec notifiers', function () {
  this.timeout(20000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pg-env-'));
    logged.length = 0;
  });
  afterEach(async () => {
    killAllChildren();
    await rm(dir, { recursive: true, force: true });
  });

  /** Everything procguard may hold: the minimal set, and secrets of every kind it reads from its environment. */
  const procguardEnv: NodeJS.ProcessEnv = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    LC_TIME: 'en_GB.UTF-8',
    TZ: 'UTC',
    USER: 'root',
    LOGNAME: 'root',
    TMPDIR: '/var/tmp',
    SUPERVISOR_PASSWORD: 'sv-secret',
    SV_PASSWORD: 'password-env-secret',
    SMTP_PASSWORD: 'smtp-secret',
    PROCGUARD_LISTEN_USERNAME: 'admin',
    PROCGUARD_LISTEN_PASSWORD: 'listen-secret',
    PAGER_TOKEN: 'pager-secret',
    NODE_OPTIONS: '--max-semi-space-size=1',
  };
  const minimal = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root', LANG: 'C.UTF-8', LC_TIME: 'en_GB.UTF-8', TZ: 'UTC', USER: 'root', LOGNAME: 'root', TMPDIR: '/var/tmp' };
  const envDeps = { ...deps, env: procguardEnv } as AdapterDeps;
  const parseEnv = (text: string): Record<string, string> =>
    Object.fromEntries(
      text
        .trim()
        .split('\n')
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
        // What /bin/sh itself exports.
        .filter(([name]) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name!)),
    );

  it("an exec notifier gets only the minimal set plus its env: (values, and procguard's variables it names)", async () => {
    const notifier: NotifierConfig = {
      type: 'exec',
      name: 'pager',
      argv: ['/usr/bin/env'],
      env: { PAGER_URL: { value: 'https://pager.example/hook' }, TOKEN: { fromEnv: 'PAGER_TOKEN' } },
      timeout: 5,
      source,
    };
    const outcome = await exec.execute({ type: 'notification', notification, notifier, event: {} }, envDeps);
    assert.equal(outcome.status, 'done');
    const said = logged.find((line) => line.startsWith('notifier "pager" (/usr/bin/env) said: '))!.slice('notifier "pager" (/usr/bin/env) said: '.length);
    assert.deepEqual(parseEnv(said), { ...minimal, PAGER_URL: 'https://pager.example/hook', TOKEN: 'pager-secret' });
  });

  it('an exec notifier whose from_env variable is not set fails, saying which, and is not run', async () => {
    const marker = join(dir, 'ran');
    const notifier: NotifierConfig = { type: 'exec', name: 'pager', argv: ['/usr/bin/touch', marker], env: { TOKEN: { fromEnv: 'NO_SUCH_VARIABLE' } }, timeout: 5, source };
    const outcome = await exec.execute({ type: 'notification', notification, notifier, event: {} }, envDeps);
    assert.deepEqual(outcome, { status: 'failed', error: 'notifier "pager": the variable NO_SUCH_VARIABLE (for TOKEN in env) is not set' });
    await assert.rejects(readFile(marker), /ENOENT/);
  });

  it('sendmail gets only the minimal set', async () => {
    const script = join(dir, 'sendmail.sh');
    await writeFile(script, `#!/bin/sh\n/usr/bin/env > ${dir}/env\ncat > /dev/null\n`, { mode: 0o755 });
    const outcome = await mail.execute({ type: 'notification', notification, notifier: mailer({ type: 'sendmail', command: script, argv: [script, '-t'] }), event: {} }, envDeps);
    assert.equal(outcome.status, 'done');
    assert.deepEqual(parseEnv(await readFile(join(dir, 'env'), 'utf8')), minimal);
  });

  it("procguard apply: an exec notifier run for a real pause sees none of the secrets in procguard's environment", async () => {
    // A command line of this run only: never another user's process on a shared host.
    const unique = `4341.${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const child = await spawnChild('sh', ['-c', `exec sleep ${unique}`]);
    const dump = join(dir, 'dump.sh');
    await writeFile(dump, `#!/bin/sh\n/usr/bin/env > ${dir}/env\n`, { mode: 0o755 });
    const loadFile = join(dir, 'loadavg');
    await writeFile(loadFile, '5.00 1.00 1.00 1/200 4242\n');
    const file = join(dir, 'policies.yaml');
    await writeFile(
      file,
      `settings: { state_dir: ${join(dir, 'state')} }
notifiers:
  pager: { exec: ["${dump}"], env: { TOKEN: { from_env: PAGER_TOKEN }, SITE: web1 } }
policies:
  - { name: backoff, kind: load, match: { cmdline: "^sleep ${unique.replace('.', '[.]')}$" }, pause_above: 4.0, notify: [ { to: pager } ] }
`,
    );
    const run = await runProcguard(['apply', '-c', file], { env: { ...procguardEnv, PATH: process.env.PATH ?? '', PROCGUARD_LOADAVG: loadFile } });
    assert.equal(run.code, 0, run.stderr);
    await eventually(() => child.state() === 'T', 3000, 'paused');
    const seen = parseEnv(await readFile(join(dir, 'env'), 'utf8'));
    assert.deepEqual(Object.keys(seen).sort(), ['HOME', 'LANG', 'LC_TIME', 'LOGNAME', 'PATH', 'SITE', 'TMPDIR', 'TOKEN', 'TZ', 'USER']);
    assert.equal(seen.TOKEN, 'pager-secret');
    for (const secret of ['sv-secret', 'password-env-secret', 'smtp-secret', 'listen-secret']) assert.ok(!Object.values(seen).includes(secret), secret);
  });
});
