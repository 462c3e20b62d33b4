// Validates a set of parsed policy files as one configuration: each file against the
// schema, then the checks across files; on success, the normalized policy set. Pure.

import { crossCheck } from './cross-check.js';
import { diagnostic, hasErrors, sortDiagnostics, START_OF_FILE, type Diagnostic } from './diagnostics.js';
import type { PolicySet } from './model.js';
import { normalizePolicySet } from './normalize.js';
import { checkAgainstSchema } from './schema-diagnostics.js';
import { isRecord } from './walk.js';
import type { ParsedFile } from './yaml-source.js';

export interface ValidationResult {
  /** Sorted, de-duplicated; warnings do not make the set invalid. */
  diagnostics: Diagnostic[];
  /** Present when there is no error. */
  policySet?: PolicySet;
}

/** `earlier` carries what loading and parsing found, so everything is reported at once. */
export function validatePolicyFiles(files: readonly ParsedFile[], earlier: readonly Diagnostic[] = []): ValidationResult {
  const diagnostics = [...earlier];
  for (const file of files) {
    if (file.data === undefined) continue; // did not parse; already reported
    if (file.data === null) {
      diagnostics.push(diagnostic(file.path, START_OF_FILE, 'warning', 'unused', 'The file is empty'));
      continue;
    }
    diagnostics.push(...checkAgainstSchema(file));
  }
  const mappings = files.filter((file) => isRecord(file.data));
  diagnostics.push(...crossCheck(mappings));
  const sorted = sortDiagnostics(diagnostics);
  if (hasErrors(sorted)) return { diagnostics: sorted };
  return { diagnostics: sorted, policySet: normalizePolicySet(mappings) };
}
