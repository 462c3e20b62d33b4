// validate's checks of `hosts:` selectors against the inventory: a label key no host carries
// (with did-you-mean), a selector that selects no host of the inventory, a host listed twice.
// Without an inventory nothing is known about the fleet, so nothing is said.

import type { Diagnostic } from './diagnostics.js';
import { diagnostic } from './diagnostics.js';
import { labelText, selectsHost, type HostIdentity } from './hosts.js';
import type { HostSelector } from './model.js';
import { didYouMean, nearest } from './suggest.js';
import { isRecord, namedSection, policyEntries, policyLabel, type Entry } from './walk.js';
import { locate, type ParsedFile, type PathSegment } from './yaml-source.js';

export function checkHostSelectors(files: readonly ParsedFile[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const add = (file: ParsedFile, path: PathSegment[], code: 'unknown-label' | 'selects-no-host' | 'duplicate-name', message: string, severity: 'error' | 'warning' = 'warning'): void => {
    diagnostics.push(diagnostic(file.path, locate(file, path, 'key'), severity, code, message));
  };

  const settingsLabels: Record<string, string> = {};
  const hosts: HostIdentity[] = [];
  const firstListed = new Map<string, ParsedFile>();
  for (const file of files) {
    if (!isRecord(file.data)) continue;
    const { settings, inventory } = file.data;
    if (isRecord(settings) && isRecord(settings.labels)) Object.assign(settingsLabels, labelText(settings.labels as Record<string, string>));
    if (!isRecord(inventory)) continue;
    for (const [name, entry] of Object.entries(inventory)) {
      const first = firstListed.get(name);
      if (first) {
        add(file, ['inventory', name], 'duplicate-name', `Host "${name}" is already in the inventory of ${first.path}; list each host once`, 'error');
        continue;
      }
      firstListed.set(name, file);
      hosts.push({ name, labels: labelText(isRecord(entry) && isRecord(entry.labels) ? (entry.labels as Record<string, string>) : {}) });
    }
  }
  if (hosts.length === 0) return diagnostics;
  // Each host as plan sees it: its inventory labels with settings.labels over them.
  for (const host of hosts) Object.assign(host.labels, settingsLabels);
  const knownKeys = [...new Set(hosts.flatMap((h) => Object.keys(h.labels)))].sort();

  const selectors: Array<{ entry: Entry; label: string }> = [
    ...policyEntries(files).map((entry) => ({ entry, label: policyLabel(entry) })),
    ...namedSection(files, 'notifiers').map((entry) => ({ entry, label: `notifier "${entry.name}"` })),
    ...namedSection(files, 'supervisors').map((entry) => ({ entry, label: `supervisor "${entry.name}"` })),
  ];
  for (const { entry, label } of selectors) {
    const raw = entry.value.hosts;
    if (!isRecord(raw)) continue;
    const path = [...entry.path, 'hosts'];
    const selector: HostSelector = {
      ...(Array.isArray(raw.names) ? { names: raw.names.filter((n): n is string => typeof n === 'string') } : {}),
      ...(isRecord(raw.labels) ? { labels: labelText(raw.labels as Record<string, string>) } : {}),
    };
    // A key of the wrong form is the schema's error already.
    if (Object.keys(selector.labels ?? {}).some((key) => !/^[A-Za-z0-9]/.test(key))) continue;
    const unknown = Object.keys(selector.labels ?? {}).filter((key) => !knownKeys.includes(key));
    for (const key of unknown) {
      add(
        entry.file,
        [...path, 'labels', key],
        'unknown-label',
        `No host of the inventory has the label "${key}" that the hosts of ${label} ask for${didYouMean(nearest(key, knownKeys))} (labels in the inventory: ${knownKeys.join(', ') || 'none'})`,
      );
    }
    if (unknown.length === 0 && !hosts.some((host) => selectsHost(selector, host))) {
      add(entry.file, path, 'selects-no-host', `The hosts of ${label} select no host of the inventory (${namesText(hosts.map((h) => h.name))}), so it is for no host`);
    }
  }
  return diagnostics;
}

/** At most five names, then how many more. */
function namesText(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
