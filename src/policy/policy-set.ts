// The one way a configuration is loaded: its files read (conf.d order, ownership checks, the
// templates they name), validated as one set and, when nothing is in error, normalized.
// check, apply, validate, the long-running modes and policy tests all load through here.

import type { Diagnostic } from './diagnostics.js';
import { loadPolicyFiles, type LoadOptions } from './load.js';
import type { PolicySet } from './model.js';
import { validatePolicyFiles } from './validate.js';
import { prepareTemplates } from './templates.js';
import type { ParsedFile } from './yaml-source.js';

export interface PolicySetOptions extends LoadOptions {
  /** Parsed files validated with those read from the paths, after them (a policy test's inline policies). */
  extraFiles?: readonly ParsedFile[];
}

export interface LoadedPolicySet {
  /** Everything loading and validation found, sorted; warnings do not make the set invalid. */
  diagnostics: Diagnostic[];
  /** Present when there is no error. */
  policySet?: PolicySet;
  /** The policy files read, in order. */
  files: ParsedFile[];
  /** Every file the set comes from: the policy files, then the templates they name. */
  sources: string[];
}

export async function loadPolicySet(paths: readonly string[], options: PolicySetOptions = {}): Promise<LoadedPolicySet> {
  const { extraFiles = [], ...load } = options;
  const loaded = await loadPolicyFiles(paths, load);
  await prepareTemplates(extraFiles);
  const result = validatePolicyFiles([...loaded.files, ...extraFiles], loaded.diagnostics);
  const templates = loaded.files.flatMap((file) => [...file.templates.values()].map((t) => t.path));
  return { ...result, files: loaded.files, sources: [...loaded.files.map((f) => f.path), ...templates] };
}
