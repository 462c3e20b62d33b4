// Validates policy file texts in memory, as the loader would after reading them.

import { formatDiagnostic } from '../../src/policy/diagnostics.js';
import { validatePolicyFiles, type ValidationResult } from '../../src/policy/validate.js';
import { loadFullYamlParser, parseYamlFileSync } from '../../src/policy/yaml-source.js';
import { loadHandlebars } from '../../src/shared/handlebars.js';

// The loader loads handlebars before it validates files with templates; these files may have any.
await loadHandlebars();
// And yaml's full parser before it reads a file that is not plain YAML.
await loadFullYamlParser();

export function validateTexts(files: Record<string, string>): ValidationResult {
  const parsed = Object.entries(files).map(([path, text]) => parseYamlFileSync(path, text));
  return validatePolicyFiles(
    parsed.map((p) => p.file),
    parsed.flatMap((p) => p.diagnostics),
  );
}

/** The diagnostics as the CLI prints them. */
export function diagnosticLines(files: Record<string, string>): string[] {
  return validateTexts(files).diagnostics.map(formatDiagnostic);
}

/** A tiny dedent so YAML fixtures can be indented with the test code. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0));
  return lines.map((l) => l.slice(indent)).join('\n');
}
