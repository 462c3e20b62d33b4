// Mail through nodemailer: the sendmail transport (the configured command split into argv and
// spawned without a shell, as memmon pipes to `sendmail -t -i`) or SMTP. Every message has
// From, Date, To, Subject and a plain-text body. sendmail's own stdout and stderr are read
// here, never inherited, so nothing it prints reaches procguard's stdout.
//
// The body goes out as written (7bit, or 8bit UTF-8), not quoted-printable: a reader of the raw
// mail, or a filter, sees each line whole. Only a body with a line longer than SMTP allows
// (998 bytes) is left to nodemailer's quoted-printable, where a soft break is the standard's way.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readSecretFile } from '../../policy/secret-file.js';
import type { MailNotifier, SecretSource } from '../../policy/model.js';
import { redactUrlPassword } from '../../shared/text.js';
import { minimalEnvironment } from '../child-env.js';
import { withDeadline } from '../deadline.js';
import { type Adapter, type AdapterDeps, type Outcome, type Work } from '../types.js';
import { errorText } from '../../shared/errors.js';

export const adapter: Adapter = {
  name: 'mail',
  async execute(work: Work, deps: AdapterDeps): Promise<Outcome> {
    if (work.type !== 'notification' || work.notifier.type !== 'mail') return { status: 'failed', error: 'the mail adapter only sends mail notifications' };
    const notifier = work.notifier;
    const message = {
      from: notifier.from ?? `procguard@${deps.hostname}`,
      to: notifier.to,
      subject: work.notification.subject,
      text: work.notification.body,
      date: new Date(deps.now() * 1000),
    };
    try {
      // One deadline for all of it: connect, greeting, every command, the data, sendmail's exit.
      const via = await withDeadline(notifier.timeout, mailPeer(notifier), deps.stopping, (signal) => send(notifier, message, deps, signal));
      return { status: 'done', detail: `mailed ${notifier.to.join(', ')} via ${via}` };
    } catch (error) {
      // nodemailer's messages say it all ("Sendmail exited with code 75", "connect ECONNREFUSED …").
      const message = errorText(error);
      return { status: 'failed', error: `mail to ${notifier.to.join(', ')} failed: ${message}` };
    }
  },
};

/** Who the mail is handed to, for messages: the sendmail command, or the SMTP server. */
function mailPeer({ transport }: MailNotifier): string {
  if (transport.type === 'sendmail') return transport.argv[0] ?? 'sendmail';
  const url = new URL(transport.url);
  return `the SMTP server ${url.host}`;
}

interface Message {
  from: string;
  to: string[];
  subject: string;
  text: string;
  date: Date;
}

/** nodemailer is loaded on the first mail, not on every start. */
async function loadNodemailer(): Promise<typeof import('nodemailer').default> {
  return (await import('nodemailer')).default;
}

/** The longest line SMTP carries, in bytes without the line ending (RFC 5321 4.5.3.1.6, RFC 5322 2.1.1). */
const MAX_LINE_BYTES = 998;

/** What nodemailer is handed: the message built here when its body can go as written, else the fields for nodemailer to encode. */
type Outgoing = { raw: string; from: string; to: string[]; eightBit: boolean } | Message;

/**
 * The message with its headers encoded by nodemailer (RFC 2047 for a subject or name that is
 * not ASCII, folded, with its own guards against header injection) and the body as written: the
 * text's lines unbroken, UTF-8 declared by the charset. Lines end CRLF here; the sendmail
 * transport turns every one into LF, the SMTP connection sends CRLF as it must.
 */
async function composed(message: Message): Promise<Outgoing> {
  const body = message.text.replace(/\r\n?/g, '\n');
  const lines = body.split('\n');
  // NUL and a line SMTP cannot carry are left to quoted-printable.
  if (body.includes('\0') || lines.some((line) => Buffer.byteLength(line) > MAX_LINE_BYTES)) return message;
  const eightBit = /[^\x00-\x7f]/.test(body);
  const { default: MimeNode } = await import('nodemailer/lib/mime-node');
  const node = new MimeNode('text/plain; charset=utf-8');
  node.setHeader('From', message.from);
  node.setHeader('To', message.to);
  node.setHeader('Subject', message.subject);
  node.setHeader('Date', message.date);
  node.setHeader('Content-Transfer-Encoding', eightBit ? '8bit' : '7bit');
  const text = body.endsWith('\n') ? body : `${body}\n`;
  return { raw: `${node.buildHeaders()}\r\n\r\n${text.replace(/\n/g, '\r\n')}`, from: message.from, to: message.to, eightBit };
}

async function send(notifier: MailNotifier, fields: Message, deps: AdapterDeps, signal: AbortSignal): Promise<string> {
  const { transport } = notifier;
  const nodemailer = await loadNodemailer();
  const message = await composed(fields);
  if (transport.type === 'sendmail') {
    await sendWithSendmail(nodemailer, transport, message, signal, deps);
    return transport.argv[0] ?? 'sendmail';
  }
  const url = new URL(transport.url);
  const password = transport.password ? await readSecret(transport.password, deps.env) : decodeURIComponent(url.password);
  const username = transport.username ?? decodeURIComponent(url.username);
  const mailer = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 25,
    secure: url.protocol === 'smtps:',
    ...(username ? { auth: { user: username, pass: password } } : {}),
    connectionTimeout: notifier.timeout * 1000,
    greetingTimeout: notifier.timeout * 1000,
    socketTimeout: notifier.timeout * 1000,
  });
  try {
    // Aborted at the deadline: nodemailer closes the connection, however slowly the server talks.
    // 8-bit text is announced (BODY=8BITMIME) to a server that offers it.
    const mail = 'raw' in message ? { raw: message.raw, envelope: { from: message.from, to: message.to, use8BitMime: message.eightBit } } : message;
    await mailer.sendMail({ ...mail, signal });
  } finally {
    mailer.close();
  }
  return redactUrlPassword(transport.url);
}

/**
 * -t alone or in a cluster of sendmail's flags that take no value (-ti, -it, -tv); not the t
 * inside a value such as -fmonitor@example.com or -oi.
 */
const HEADER_RECIPIENTS_FLAG = /^-[imnvUG]*t[imnvUGt]*$/;

/** -i, alone or in such a cluster (-ti), or -oi: a line holding only a dot does not end the message. */
const KEEP_DOTS_FLAG = /^(-[mnvUGt]*i[imnvUGt]*|-oi)$/;

/**
 * `sendmail -t` reads the recipients from the To: header; sendmail proper would drop any also
 * given as arguments, so with -t none are added (as memmon). Without it they are passed in argv.
 */
async function sendWithSendmail(
  nodemailer: typeof import('nodemailer').default,
  { argv, shell = false }: { argv: readonly string[]; shell?: boolean },
  message: Outgoing,
  signal: AbortSignal,
  deps: AdapterDeps,
): Promise<void> {
  const [path, ...args] = argv;
  if (!path) throw new Error('the sendmail command is empty');
  // A command run by the shell (procguard memmon -s, as memmon's os.popen) gets the message only, recipients in To:.
  const readsHeaders = shell || args.some((arg) => HEADER_RECIPIENTS_FLAG.test(arg));
  // One line ending throughout, LF, as a local sendmail reads it: headers, body and encoding alike.
  const mailer = nodemailer.createTransport({ sendmail: true, path, args, newline: 'unix' });
  let child: ChildProcess | undefined;
  // The transport spawns with piped stdio; it is wrapped to drain sendmail's output and to kill it on timeout.
  const transport = (mailer as unknown as { transporter: { _spawn?: typeof spawn } }).transporter;
  let exited = false;
  transport._spawn = ((command: string, commandArgs: readonly string[], options?: SpawnOptions) => {
    // nodemailer puts its own -i before the configured arguments and the recipients after them:
    // -i is kept once (the default command has its own), and a shell command gets nothing added.
    const recipients = commandArgs.slice(1 + args.length);
    const finalArgs = shell ? args : [...(args.some((arg) => KEEP_DOTS_FLAG.test(arg)) ? [] : ['-i']), ...args, ...recipients];
    // None of procguard's secrets: a minimal environment.
    const spawned = spawn(command, finalArgs, { ...options, env: minimalEnvironment(deps.env), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    child = spawned;
    spawned.once('exit', () => (exited = true));
    if (signal.aborted) cutShort(spawned);
    let stderr = '';
    spawned.stdout?.resume();
    spawned.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    // nodemailer settles on the exit. What sendmail printed is read until 'close', or for
    // OUTPUT_GRACE_MS after the exit at most: a process it left behind in a session of its own
    // may hold its pipes for ever, and ours are then closed so they keep nothing open here.
    spawned.once('exit', (code) => {
      let done = false;
      const report = (): void => {
        if (done) return;
        done = true;
        clearTimeout(grace);
        releasePipes(spawned);
        if (code !== 0 && stderr.trim()) deps.log(`sendmail (${path}) said: ${stderr.trim()}`);
      };
      const grace = setTimeout(report, OUTPUT_GRACE_MS);
      spawned.once('close', report);
    });
    return spawned;
  }) as typeof spawn;
  // A message built here carries its own headers; nodemailer still takes the envelope from these fields.
  const envelope = { from: message.from, to: readsHeaders ? [] : message.to };
  // Past the deadline sendmail and whatever it started are killed (never a group that has exited, whose id may be reused).
  const onAbort = (): void => {
    if (child && !exited) cutShort(child);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await mailer.sendMail('raw' in message ? { raw: message.raw, envelope } : { ...message, envelope });
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** How long the output of a sendmail that has exited is still read, when something it started keeps its pipes open. */
const OUTPUT_GRACE_MS = 500;

/**
 * sendmail and whatever it started are killed (it runs in its own process group), and its pipes
 * closed on our side: a process it started in a session of its own survives the kill and may
 * hold them, and nothing of sendmail's may then keep procguard running.
 */
function cutShort(child: ChildProcess): void {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }
  releasePipes(child);
  child.unref();
}

function releasePipes(child: ChildProcess): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

export async function readSecret(source: SecretSource, env: NodeJS.ProcessEnv): Promise<string> {
  if ('env' in source) {
    const value = env[source.env];
    if (value === undefined) throw new Error(`the password variable ${source.env} is not set`);
    return value;
  }
  const text = await readSecretFile(source.file);
  if (typeof text !== 'string') throw new Error(`the password file: ${text.message}`);
  return text;
}
