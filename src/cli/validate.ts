// `procguard validate [-c PATH]… [PATH…] [--json]`: parse, schema-check and cross-check
// policy files, and hub files (`procguard hub`, told apart by their top-level hub, agents or
// file_sd); one line per problem as FILE:LINE:COL, a summary, exit 0 or 2.

import { formatDiagnostic, hasErrors, type Diagnostic } from '../policy/diagnostics.js';
import { jsonText } from '../shared/text.js';
import { configPaths, discoverPolicySets, loadPolicyFiles, STDIN_NAME, STDIN_PATH, type ForeignDirectory, type LoadOptions } from '../policy/load.js';
import type { PolicySet } from '../policy/model.js';
import { validatePolicyFiles } from '../policy/validate.js';
import { isHubDocument, validateHubFiles, type HubConfig } from '../hub/config.js';
import { ExitCode } from '../shared/exit-codes.js';
import type { CliIo } from '../shared/io.js';
import { plural } from '../shared/text.js';
import { standardInput } from './context.js';
import { checkFormat, diagnosticsGithub, diagnosticsJunit, diagnosticsMarkdown, diagnosticsSarif } from './report-formats.js';

export interface ValidateOptions {
  config: string[];
  json?: boolean;
  format?: string;
}

export const VALIDATE_FORMATS = ['text', 'json', 'github', 'junit', 'sarif', 'markdown'] as const;

interface SetReport {
  label: string;
  fileCount: number;
  files: string[];
  diagnostics: Diagnostic[];
  policySet?: PolicySet;
  /** A set of hub files: its configuration when valid. */
  hub?: { config?: HubConfig };
}

/**
 * `-c` paths form one configuration, exactly as the daemon would load it. Each positional
 * PATH is checked on its own: a file alone, or every directory under it that holds policy files.
 */
export async function runValidate(paths: string[], options: ValidateOptions, io: CliIo, load: LoadOptions = {}): Promise<ExitCode> {
  const format = checkFormat('validate', options.json ? 'json' : (options.format ?? 'text'), VALIDATE_FORMATS);
  const sets: string[][] = [];
  if (options.config.length > 0 || paths.length === 0) sets.push(configPaths(options.config, io.env));
  const foreign: ForeignDirectory[] = [];
  for (const path of paths) {
    for (const found of await discoverPolicySets(path, foreign)) sets.push([found]);
  }
  const skipped = foreign.map(foreignLine);

  const reports: SetReport[] = [];
  const stdin = standardInput(io);
  for (const set of sets) {
    const loaded = await loadPolicyFiles(set, { ...(stdin ? { stdin } : {}), ...load });
    const label = set.map((path) => (path === STDIN_PATH ? STDIN_NAME : path)).join(', ');
    // Hub files are checked as a hub's configuration, the other files as policies.
    const hubFiles = loaded.files.filter((file) => isHubDocument(file.data));
    const policyFiles = loaded.files.filter((file) => !hubFiles.includes(file));
    if (hubFiles.length > 0) {
      const hub = validateHubFiles(hubFiles, policyFiles.length === 0 ? loaded.diagnostics : []);
      reports.push({
        label: policyFiles.length === 0 ? label : hubFiles.map((f) => f.path).join(', '),
        fileCount: hubFiles.length,
        files: hubFiles.map((f) => f.path),
        diagnostics: hub.diagnostics,
        hub: hub.config ? { config: hub.config } : {},
      });
      if (policyFiles.length === 0) continue;
    }
    const { diagnostics, policySet } = validatePolicyFiles(policyFiles, loaded.diagnostics);
    const policyLabel = hubFiles.length === 0 ? label : policyFiles.map((f) => f.path).join(', ');
    reports.push({ label: policyLabel, fileCount: policyFiles.length, files: policyFiles.map((f) => f.path), diagnostics, ...(policySet ? { policySet } : {}) });
  }

  const all = reports.flatMap((r) => r.diagnostics);
  if (format === 'json') {
    io.stdout(`${jsonText(all)}\n`);
  } else if (format === 'github') {
    io.stdout(diagnosticsGithub(all, io.cwd));
    for (const line of [...reports.map(summaryLine), ...skipped]) io.stdout(`${line}\n`);
  } else if (format === 'junit') {
    io.stdout(
      diagnosticsJunit(
        all,
        reports.flatMap((r) => r.files),
        io.cwd,
      ),
    );
  } else if (format === 'sarif') {
    io.stdout(`${jsonText(diagnosticsSarif(all, io.cwd))}\n`);
  } else if (format === 'markdown') {
    io.stdout(diagnosticsMarkdown(all, io.cwd, reports.map(summaryLine).join('; ')));
  } else {
    for (const d of all) io.stdout(`${formatDiagnostic(d)}\n`);
    for (const line of [...reports.map(summaryLine), ...skipped]) io.stdout(`${line}\n`);
  }
  return hasErrors(all) ? ExitCode.INVALID : ExitCode.OK;
}

/** A directory found while walking whose YAML is another tool's: said once, not judged. */
function foreignLine({ directory, files }: ForeignDirectory): string {
  const shown = files.map(({ name, keys }) => `${name}: ${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''}`).join('; ');
  return `${directory}: skipped: no procguard file (top-level keys ${shown})`;
}

function summaryLine(report: SetReport): string {
  const errors = report.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = report.diagnostics.length - errors;
  const files = plural(report.fileCount, 'file');
  const warned = warnings > 0 ? `, ${plural(warnings, 'warning')}` : '';
  if (report.hub) {
    const config = report.hub.config;
    if (!config) return `${report.label}: invalid hub configuration: ${plural(errors, 'error')}${warned} in ${files}`;
    return `${report.label}: valid hub configuration: ${plural(config.agents.length, 'agent')}, ${plural(config.fileSd.length, 'file_sd path')} in ${files}${warned}`;
  }
  if (!report.policySet) return `${report.label}: invalid: ${plural(errors, 'error')}${warned} in ${files}`;
  const { policies, supervisors, notifiers } = report.policySet;
  const byKind = new Map<string, number>();
  for (const p of policies) byKind.set(p.kind, (byKind.get(p.kind) ?? 0) + 1);
  const kinds = [...byKind].map(([kind, count]) => `${kind} ${count}`).join(', ');
  const audit = policies.filter((p) => p.mode === 'audit').length;
  const details = [
    `${plural(policies.length, 'policy', 'policies')}${kinds ? ` (${kinds}${audit ? `; ${audit} in audit mode` : ''})` : ''}`,
    plural(supervisors.length, 'supervisor'),
    plural(notifiers.length, 'notifier'),
  ].join(', ');
  return `${report.label}: valid: ${details} in ${files}${warned}`;
}
