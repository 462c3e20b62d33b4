// The hub's configuration: one or more YAML files (`procguard hub -c FILE…`) checked against
// schemas/hub.schema.json with the policy files' diagnostics (FILE:LINE:COL, all at once,
// did-you-mean), then the checks a schema cannot make, then the agents and settings as the
// poller uses them. A file is a hub file when its top level has `hub`, `agents` or `file_sd`.

import { dirname, isAbsolute, resolve } from 'node:path';
import { diagnostic, hasErrors, sortDiagnostics, START_OF_FILE, type Diagnostic, type DiagnosticCode, type Severity } from '../policy/diagnostics.js';
import type { HubFile } from '../policy/hub-file.generated.js';
import type { ValidateFunction } from 'ajv';
// The hub file's validator, apart from the policy file's: only the hub and validate load it.
import { hubFile } from '../policy/hub-validator.generated.js';
import { translateErrors } from '../policy/schema-diagnostics.js';
import { durationOf } from '../policy/unit-values.js';
import { isRecord } from '../policy/walk.js';
import { locate, type ParsedFile, type PathSegment } from '../policy/yaml-source.js';

/** The top-level keys that make a file a hub file. */
export const HUB_KEYS = ['hub', 'agents', 'file_sd'] as const;

export const HUB_DEFAULTS = { interval: 15, timeout: 5, concurrency: 64 } as const;

export interface HubAgent {
  name: string;
  /** Without a trailing slash: http://host:port or https://host:port. */
  url: string;
  username?: string;
  /** The environment variable holding the password; read when the agent is asked, never kept in the configuration. */
  passwordEnv?: string;
  /** Absolute. */
  caFile?: string;
  labels: Record<string, string>;
  /** Where it was defined: FILE:LINE, or the file_sd file. */
  source: string;
}

export interface HubConfig {
  intervalMs: number;
  timeoutMs: number;
  concurrency: number;
  agents: HubAgent[];
  /** Absolute paths or globs (in the last path segment) of Prometheus file_sd files. */
  fileSd: string[];
  files: string[];
}

export function isHubDocument(data: unknown): boolean {
  return isRecord(data) && HUB_KEYS.some((key) => Object.hasOwn(data, key));
}

export interface HubValidation {
  diagnostics: Diagnostic[];
  /** Present when there is no error. */
  config?: HubConfig;
}

/** Validates hub files as one configuration; `earlier` carries what loading and parsing found. */
export function validateHubFiles(files: readonly ParsedFile[], earlier: readonly Diagnostic[] = []): HubValidation {
  const diagnostics = [...earlier];
  const validate = hubFile as ValidateFunction;
  const valid: ParsedFile[] = [];
  const mappings: ParsedFile[] = [];
  for (const file of files) {
    if (file.data === undefined) continue;
    if (file.data === null) {
      diagnostics.push(diagnostic(file.path, START_OF_FILE, 'warning', 'unused', 'The file is empty'));
      continue;
    }
    if (!isRecord(file.data)) {
      diagnostics.push(diagnostic(file.path, START_OF_FILE, 'error', 'invalid-value', `A hub file must be a mapping of hub, agents and file_sd, not ${typeof file.data}`));
      continue;
    }
    mappings.push(file);
    if (validate(file.data)) valid.push(file);
    else diagnostics.push(...translateErrors(file, (validate.errors ?? []) as Parameters<typeof translateErrors>[1]));
  }
  // Across files too, and in files the schema refused, so every problem is told at once.
  diagnostics.push(...crossCheckHub(mappings));
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted) || valid.length < files.length) return { diagnostics: sorted };
  return { diagnostics: sorted, config: normalize(valid) };
}

function crossCheckHub(files: readonly ParsedFile[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (file: ParsedFile, path: PathSegment[], severity: Severity, code: DiagnosticCode, message: string, which: 'key' | 'value' = 'value') =>
    out.push(diagnostic(file.path, locate(file, path, which), severity, code, message));
  const where = (file: ParsedFile, path: PathSegment[]) => {
    const at = locate(file, path, 'value');
    return `${file.path}:${at.line}:${at.column}`;
  };

  let settingsAt: { file: ParsedFile } | undefined;
  const names = new Map<string, { file: ParsedFile; path: PathSegment[] }>();
  const urls = new Map<string, { file: ParsedFile; path: PathSegment[]; name: string }>();
  for (const file of files) {
    const data = file.data as Record<string, unknown>;
    if (isRecord(data.hub)) {
      if (settingsAt) {
        add(file, ['hub'], 'error', 'duplicate-setting', `"hub" is set in two files; the first is ${where(settingsAt.file, ['hub'])}`, 'key');
      } else {
        settingsAt = { file };
      }
      const interval = durationOf(data.hub.interval ?? HUB_DEFAULTS.interval);
      const timeout = durationOf(data.hub.timeout ?? HUB_DEFAULTS.timeout);
      // Only where the schema found a duration: a bad one has its own message.
      if (interval === 0) add(file, ['hub', 'interval'], 'error', 'invalid-value', '"interval" in hub must be longer than 0s');
      if (timeout === 0) add(file, ['hub', 'timeout'], 'error', 'invalid-value', '"timeout" in hub must be longer than 0s');
      if (interval !== undefined && timeout !== undefined && interval > 0 && timeout > interval) {
        add(
          file,
          ['hub', 'timeout'],
          'error',
          'inconsistent',
          `"timeout" in hub (${timeout}s) is longer than "interval" (${interval}s): an agent would be asked again before its answer is given up on; make it at most the interval`,
        );
      }
    }
    for (const [index, agent] of (Array.isArray(data.agents) ? data.agents : []).entries()) {
      if (!isRecord(agent) || typeof agent.name !== 'string' || typeof agent.url !== 'string') continue;
      const path = ['agents', index];
      const first = names.get(agent.name);
      const url = agent.url.replace(/\/$/, '');
      if (first) {
        add(file, [...path, 'name'], 'error', 'duplicate-name', `Duplicate agent "${agent.name}": first defined at ${where(first.file, [...first.path, 'name'])}`);
      } else {
        names.set(agent.name, { file, path });
      }
      const sameUrl = urls.get(url);
      if (sameUrl) {
        add(
          file,
          [...path, 'url'],
          'warning',
          'duplicate-name',
          `Agent "${agent.name}" has the same URL as agent "${sameUrl.name}" (${where(sameUrl.file, [...sameUrl.path, 'url'])}); each entry is asked, so the page shows the host twice`,
        );
      } else {
        urls.set(url, { file, path, name: agent.name });
      }
      if (agent.ca_file !== undefined && !url.startsWith('https://')) {
        add(file, [...path, 'ca_file'], 'error', 'inconsistent', `Agent "${agent.name}" sets "ca_file" but its URL is not https://; remove it or use https://`, 'key');
      }
      if (typeof agent.password_env === 'string' && agent.username !== undefined && url.startsWith('http://') && !isLoopbackUrl(url)) {
        add(
          file,
          [...path, 'password_env'],
          'warning',
          'inconsistent',
          `Agent "${agent.name}" is asked with a password over plain http:// to another host: anyone on the way can read it; serve the agent over https:// (a TLS proxy) or on a private network`,
          'key',
        );
      }
    }
  }
  return out;
}

function normalize(files: readonly ParsedFile[]): HubConfig {
  const hubFile = files.find((file) => (file.data as HubFile).hub !== undefined);
  const settings = (hubFile?.data as HubFile | undefined)?.hub ?? {};
  const agents: HubAgent[] = [];
  const fileSd: string[] = [];
  for (const file of files) {
    const data = file.data as HubFile;
    const base = dirname(resolve(file.path));
    for (const [index, agent] of (data.agents ?? []).entries()) {
      const at = locate(file, ['agents', index]);
      agents.push({
        name: agent.name,
        url: agent.url.replace(/\/$/, ''),
        ...(agent.username !== undefined ? { username: agent.username } : {}),
        ...(agent.password_env !== undefined ? { passwordEnv: agent.password_env } : {}),
        ...(agent.ca_file !== undefined ? { caFile: isAbsolute(agent.ca_file) ? agent.ca_file : resolve(base, agent.ca_file) } : {}),
        labels: { ...(agent.labels ?? {}) },
        source: `${file.path}:${at.line}`,
      });
    }
    for (const glob of data.file_sd ?? []) fileSd.push(isAbsolute(glob) ? glob : resolve(base, glob));
  }
  return {
    intervalMs: (durationOf(settings.interval ?? HUB_DEFAULTS.interval) ?? HUB_DEFAULTS.interval) * 1000,
    timeoutMs: (durationOf(settings.timeout ?? HUB_DEFAULTS.timeout) ?? HUB_DEFAULTS.timeout) * 1000,
    concurrency: settings.concurrency ?? HUB_DEFAULTS.concurrency,
    agents,
    fileSd,
    files: files.map((file) => file.path),
  };
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || host.startsWith('127.');
  } catch {
    return false;
  }
}
