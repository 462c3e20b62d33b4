// Connecting to a supervisord: the configured supervisors, or the one SUPERVISOR_SERVER_URL
// (with _USERNAME/_PASSWORD) names when none is configured, as memmon. Nothing is sent to a
// local address before the process listening there has been verified as supervisord, run by
// root or the user the configuration allows. Both the collector and the adapter connect here:
// the adapter once per action, the collector over a connection kept open from cycle to cycle,
// verified when it is opened and never reopened without verifying again.

import http from 'node:http';
import { connect as netConnect, type NetConnectOpts } from 'node:net';
import { errorText } from '../shared/errors.js';
import { redactUrlPassword, urlWithPasswordHidden } from '../shared/text.js';
import { DEFAULTS, type SupervisorConfig } from '../policy/model.js';
import { supervisorEndpoint } from '../policy/normalize.js';
import { readSecretFile } from '../policy/secret-file.js';
import { readUsers } from '../host/passwd.js';
import { SupervisorClient, SupervisorError, type SupervisorClientOptions } from './client.js';
import { findListeners, parentOf, placeOf, socketFileOwners } from './listener.js';

/** The name given to the supervisor found in the environment. */
export const ENV_SUPERVISOR_NAME = 'default';

/** The supervisors to ask: the configured ones, else the one in the environment, else none. */
export function supervisorsToAsk(configured: readonly SupervisorConfig[], env: NodeJS.ProcessEnv): SupervisorConfig[] {
  if (configured.length > 0) return [...configured];
  const url = env.SUPERVISOR_SERVER_URL;
  if (!url) return [];
  return [environmentSupervisor(url, env)];
}

/**
 * The supervisor of SUPERVISOR_SERVER_URL. Credentials written in the URL (http://user:pass@…)
 * are used, never shown (the URL is kept with ***); SUPERVISOR_USERNAME or SUPERVISOR_PASSWORD
 * saying otherwise is a conflict reported instead of connecting, not a silent choice.
 */
function environmentSupervisor(url: string, env: NodeJS.ProcessEnv): SupervisorConfig {
  const base = { name: ENV_SUPERVISOR_NAME, timeout: DEFAULTS.supervisorTimeout, source: { file: 'environment', line: 0, column: 0 } };
  const refused = (problem: string): SupervisorConfig => ({ ...base, url: redactUrlPassword(url), endpoint: { transport: 'unix', socketPath: '' }, problem });
  if (url.startsWith('unix://')) {
    // The rest is the socket path, shown in messages: credentials cannot be written there.
    if (!url.slice('unix://'.length).startsWith('/') || url.includes('@'))
      return refused("SUPERVISOR_SERVER_URL unix:// must be followed by the socket's absolute path, without credentials (give them in SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD)");
    return withEnvCredentials({ ...base, url, endpoint: supervisorEndpoint(url) }, env);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refused('SUPERVISOR_SERVER_URL is not a URL (unix:///path or http://host:port)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return refused(`SUPERVISOR_SERVER_URL must be unix:///path or http://host:port, not ${parsed.protocol}`);
  // Shown as the parser reads it, which is how it is used: the password, however written, is ***.
  const shown = parsed.password !== '' ? urlWithPasswordHidden(parsed, url) : redactUrlPassword(url);
  if (parsed.username === '' && parsed.password !== '') {
    return { ...refused('SUPERVISOR_SERVER_URL gives a password without a user name (write http://user:password@host:port; nothing was sent)'), url: shown };
  }
  const username = decoded(parsed.username);
  const password = parsed.password !== '' ? decoded(parsed.password) : undefined;
  if (username === null || password === null) {
    return { ...refused('SUPERVISOR_SERVER_URL has a % in its user name or password that is not a %-escape (write % as %25; nothing was sent)'), url: shown };
  }
  const inUrl = username !== '' ? { username, password } : undefined;
  const bare = new URL(parsed.href);
  bare.username = '';
  bare.password = '';
  const config: SupervisorConfig = { ...base, url: shown, endpoint: supervisorEndpoint(bare.toString()) };
  if (!inUrl) return withEnvCredentials(config, env);
  config.username = inUrl.username;
  if (inUrl.password !== undefined) config.password = { urlEnv: 'SUPERVISOR_SERVER_URL' };
  else if (env.SUPERVISOR_PASSWORD !== undefined) config.password = { env: 'SUPERVISOR_PASSWORD' };
  if (env.SUPERVISOR_USERNAME && env.SUPERVISOR_USERNAME !== inUrl.username) {
    config.problem = `SUPERVISOR_SERVER_URL names user "${inUrl.username}" and SUPERVISOR_USERNAME names "${env.SUPERVISOR_USERNAME}"; give the credentials once (nothing was sent)`;
  } else if (inUrl.password !== undefined && env.SUPERVISOR_PASSWORD !== undefined && env.SUPERVISOR_PASSWORD !== inUrl.password) {
    config.problem = 'SUPERVISOR_SERVER_URL and SUPERVISOR_PASSWORD hold different passwords; give the credentials once (nothing was sent)';
  }
  return config;
}

/** A user name or password as written in a URL, with its %-escapes decoded; null when one is malformed. */
function decoded(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** SUPERVISOR_USERNAME and SUPERVISOR_PASSWORD, for a URL that carries no credentials. */
function withEnvCredentials(config: SupervisorConfig, env: NodeJS.ProcessEnv): SupervisorConfig {
  if (env.SUPERVISOR_USERNAME) config.username = env.SUPERVISOR_USERNAME;
  if (env.SUPERVISOR_PASSWORD !== undefined) config.password = { env: 'SUPERVISOR_PASSWORD' };
  return config;
}

/**
 * A client for a supervisor whose listener has been verified. A local one (unix socket,
 * loopback address) is used only when the process holding its socket runs as root, as
 * procguard's own user or as the supervisor's `user:`; otherwise nothing is sent, credentials
 * included. A remote one is used as it is, and its pids are never taken for this host's.
 */
export async function connect(config: SupervisorConfig, env: NodeJS.ProcessEnv): Promise<SupervisorClient> {
  if (config.problem !== undefined) throw new SupervisorError(`supervisor "${config.name}": ${config.problem}`, 'auth');
  const verified = await verifyListener(config);
  return new SupervisorClient(clientOptions(config, await passwordOf(config, env), verified));
}

async function passwordOf(config: SupervisorConfig, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (config.password && 'urlEnv' in config.password) return decodeURIComponent(new URL(env[config.password.urlEnv] ?? '').password);
  if (config.password && 'env' in config.password) {
    const password = env[config.password.env];
    if (password === undefined) throw new SupervisorError(`supervisor "${config.name}": password_env ${config.password.env} is not set`, 'auth');
    return password;
  }
  if (config.password) {
    const text = await readSecretFile(config.password.file);
    if (typeof text !== 'string') throw new SupervisorError(`supervisor "${config.name}": password_file: ${text.message}`, 'auth');
    return text;
  }
  return undefined;
}

function clientOptions(config: SupervisorConfig, password: string | undefined, verified: Verified): SupervisorClientOptions {
  return {
    name: config.name,
    url: config.url,
    endpoint: config.endpoint,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(password !== undefined ? { password } : {}),
    timeout: config.timeout,
    ...verified,
  };
}

/**
 * A connection kept open from one cycle to the next for the collector's question. It is
 * opened only right after its listener was verified, and its agent never opens another: once
 * it has closed, the next question verifies the listener again on a new one. While it is
 * open, the process at its other end is the one verified.
 */
interface KeptConnection {
  agent: http.Agent;
  verified: Verified;
  /** Questions answered over it. */
  answered: number;
}

/** Kept connections by the supervisor's name, address and allowed user: what its verification depends on. */
const keptConnections = new Map<string, KeptConnection>();

function keptKey(config: SupervisorConfig): string {
  return JSON.stringify([config.name, config.url, config.endpoint, config.user ?? null]);
}

/** The kept connection to a supervisor, its listener verified now if none is open. */
async function keptConnection(config: SupervisorConfig): Promise<KeptConnection> {
  const key = keptKey(config);
  const open = keptConnections.get(key);
  if (open) return open;
  const verified = await verifyListener(config);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  let opened = false;
  // The agent's only way to connect: once, for the listener just verified.
  agent.createConnection = (options, callback) => {
    if (opened) {
      callback?.(new Error('the kept connection closed'), undefined as never);
      return undefined;
    }
    opened = true;
    // The options the agent was given for the request: the verified socket path, or address and port.
    const socket = netConnect(options as NetConnectOpts);
    socket.once('close', () => {
      if (keptConnections.get(key) === connection) keptConnections.delete(key);
    });
    return socket;
  };
  const connection: KeptConnection = { agent, verified, answered: 0 };
  keptConnections.set(key, connection);
  return connection;
}

function closeKept(key: string, connection: KeptConnection): void {
  if (keptConnections.get(key) === connection) keptConnections.delete(key);
  connection.agent.destroy();
}

/**
 * `ask` (a question that changes nothing, such as getAllProcessInfo) over the supervisor's kept
 * connection: no new connection, and no new verification, while the one verified stays open.
 * Any error closes it. A kept connection that supervisord closed while it was idle fails the
 * next question: that one is asked once more, on a new connection to a listener verified again.
 */
export async function askOverKeptConnection<T>(config: SupervisorConfig, env: NodeJS.ProcessEnv, ask: (client: SupervisorClient) => Promise<T>): Promise<{ client: SupervisorClient; answer: T }> {
  if (config.problem !== undefined) throw new SupervisorError(`supervisor "${config.name}": ${config.problem}`, 'auth');
  const key = keptKey(config);
  for (let attempt = 1; ; attempt += 1) {
    const connection = await keptConnection(config);
    const reused = connection.answered > 0;
    try {
      const client = new SupervisorClient(clientOptions(config, await passwordOf(config, env), connection.verified), connection.agent);
      const answer = await ask(client);
      connection.answered += 1;
      return { client, answer };
    } catch (error) {
      closeKept(key, connection);
      const again = reused && attempt === 1 && error instanceof SupervisorError && error.kind === 'unreachable';
      if (!again) throw error;
    }
  }
}

/** Closes the kept connections of supervisors other than these (no longer configured, or not for this host). */
export function keepConnectionsOnlyTo(configs: readonly SupervisorConfig[]): void {
  const wanted = new Set(configs.map(keptKey));
  for (const [key, connection] of keptConnections) if (!wanted.has(key)) closeKept(key, connection);
}

type Verified = Pick<SupervisorClientOptions, 'connectTo' | 'supervisord' | 'remote'>;

/** Where the client may connect and what it may join: the verified supervisord's pid, or remote. */
async function verifyListener(config: SupervisorConfig): Promise<Verified> {
  const where = `supervisor "${config.name}"`;
  const place = await placeOf(config.endpoint);
  if (place.kind === 'remote') return { remote: true };
  let found: ReturnType<typeof findListeners>;
  try {
    found = findListeners(place);
  } catch (error) {
    const reason = errorText(error);
    throw new SupervisorError(`${where}: cannot tell who listens on ${place.shown} (${reason}); nothing was sent`, 'untrusted');
  }
  if (!Array.isArray(found)) {
    if (found.code) throw new SupervisorError(`cannot reach ${where} at ${config.url}: ${found.code}`, 'unreachable');
    throw new SupervisorError(`${where}: ${found.message}; nothing was sent`, 'untrusted');
  }
  const allowed = allowedUids(config);
  if (typeof allowed === 'string') throw new SupervisorError(`${where}: ${allowed}; nothing was sent`, 'untrusted');
  const trusted = `root or the configured user${config.user !== undefined ? ` (${config.user})` : ''}`;
  for (const listener of found) {
    if (listener.uids.length === 4 && listener.uids.every((uid) => allowed.has(uid))) continue;
    const owner = listener.uids.find((uid) => !allowed.has(uid));
    const who = owner === undefined ? 'a user that cannot be read' : `user ${userName(owner)}`;
    throw new SupervisorError(`${where}: the socket ${place.shown} is held by pid ${listener.pid} (${who}), not by ${trusted}; nothing was sent`, 'untrusted');
  }
  if (place.kind === 'unix') {
    // A connection reaches the socket bound to the file at the path: whoever could put it there could answer.
    const owners = socketFileOwners(place.socketPath);
    if (!Array.isArray(owners)) {
      if (owners.code) throw new SupervisorError(`cannot reach ${where} at ${config.url}: ${owners.code}`, 'unreachable');
      throw new SupervisorError(`${where}: ${owners.message}; nothing was sent`, 'untrusted');
    }
    const unsafe = owners.find((o) => !allowed.has(o.uid));
    if (unsafe) {
      const why = unsafe.uid === -1 ? `${unsafe.what} ${unsafe.path} lets others replace the socket` : `${unsafe.what} ${unsafe.path} belongs to user ${userName(unsafe.uid)}, not to ${trusted}`;
      throw new SupervisorError(`${where}: ${why}; nothing was sent`, 'untrusted');
    }
  }
  // Several holders: a process that inherited the socket; supervisord is the one whose parent is not another holder.
  const pids = new Set(found.map((l) => l.pid));
  const supervisord = found.find((l) => !pids.has(parentOf(l.pid) ?? 0))?.pid ?? found[0]!.pid;
  return { supervisord, ...(place.kind === 'loopback' ? { connectTo: { host: place.address, port: place.port } } : {}) };
}

/** root, procguard's own user, and the supervisor's `user:` (a name from /etc/passwd, or a uid). */
function allowedUids(config: SupervisorConfig): Set<number> | string {
  const allowed = new Set<number>([0]);
  const self = process.geteuid?.();
  if (self !== undefined) allowed.add(self);
  if (config.user === undefined) return allowed;
  if (/^\d+$/.test(config.user)) return allowed.add(Number(config.user));
  const uid = [...passwd()].find(([, name]) => name === config.user)?.[0];
  if (uid === undefined) return `user: ${config.user} is not a user of this host (not in /etc/passwd)`;
  return allowed.add(uid);
}

function passwd(): Map<number, string> {
  return readUsers('/etc/passwd');
}

function userName(uid: number): string {
  return passwd().get(uid) ?? `uid ${uid}`;
}
