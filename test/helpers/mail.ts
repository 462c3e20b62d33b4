// Where the tests' mail arrives: a real SMTP server (the smtp-server package) on 127.0.0.1,
// and a sendmail-compatible capture script that saves its argv and stdin.

import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  /** What MAIL FROM announced: '7bit', or '8bitmime' for 8-bit text. */
  bodyType: string;
  /** The raw message. */
  data: string;
  headers: Map<string, string>;
  body: string;
}

export interface SmtpSink {
  port: number;
  url: string;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

export function parseMessage(data: string): { headers: Map<string, string>; body: string } {
  const normalized = data.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n\n');
  const head = normalized.slice(0, split).replace(/\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = normalized.slice(split + 2);
  return { headers, body: headers.get('content-transfer-encoding') === 'quoted-printable' ? decodeQuotedPrintable(body) : body };
}

/** Long lines reach mail as quoted-printable; tests compare the text a reader sees. */
function decodeQuotedPrintable(text: string): string {
  const bytes = text.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** With `onAuth`, the server requires a login (over plain SMTP, as a test may) and reports each one; `port` 0 picks a free one. */
export async function startSmtpSink(options: { onAuth?: (username: string, password: string) => void; port?: number } = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const { onAuth } = options;
  const server = new SMTPServer({
    authOptional: onAuth === undefined,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      onAuth?.(auth.username ?? '', auth.password ?? '');
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const data = Buffer.concat(chunks).toString('utf8');
        const envelope = session.envelope;
        messages.push({
          from: envelope.mailFrom ? envelope.mailFrom.address : '',
          to: envelope.rcptTo.map((r) => r.address),
          bodyType: envelope.bodyType ?? '7bit',
          data,
          ...parseMessage(data),
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
  return { port, url: `smtp://127.0.0.1:${port}`, messages, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A sendmail stand-in: saves "$@" and stdin in `dir` (a message appears whole, by rename), and prints to its stdout as a chatty sendmail might. */
export async function writeCaptureScript(dir: string, options: { exitCode?: number } = {}): Promise<string> {
  const path = join(dir, `sendmail-capture-${options.exitCode ?? 0}.sh`);
  await writeFile(
    path,
    `#!/bin/sh
out="${dir}/captured-$$-$(date +%s%N)"
printf '%s\\n' "$@" > "$out.args"
cat > "$out.part" && mv "$out.part" "$out.eml"
echo "capture: message accepted"
exit ${options.exitCode ?? 0}
`,
  );
  await chmod(path, 0o755);
  return path;
}

export interface CapturedMail {
  args: string[];
  headers: Map<string, string>;
  body: string;
}

export async function readCaptured(dir: string): Promise<CapturedMail[]> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('captured-') && n.endsWith('.eml')).sort();
  return Promise.all(
    names.map(async (name) => {
      const base = join(dir, name.slice(0, -'.eml'.length));
      const args = (await readFile(`${base}.args`, 'utf8')).split('\n').filter(Boolean);
      return { args, ...parseMessage(await readFile(`${base}.eml`, 'utf8')) };
    }),
  );
}
