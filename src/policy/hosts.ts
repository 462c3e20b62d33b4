// Which hosts a policy, notifier or supervisor is for (`hosts: { names, labels }`), and what a
// host is: its name and its labels, from the inventory and settings.labels. Pure: the engine
// selects the part of a policy set that is for the host a snapshot was taken on.

import type { HostSelector, Inventory, PolicySet } from './model.js';

export type { HostSelector } from './model.js';

/** A host as selectors see it. */
export interface HostIdentity {
  name: string;
  labels: Record<string, string>;
}

/** Labels as text: `tier: 1` and `tier: "1"` are one label. */
export function labelText(raw: Record<string, string | number | boolean> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(raw ?? {}).map(([key, value]) => [key, String(value)]));
}

/** The host's inventory entry: by its name, else by its short name (web1 for web1.example.com). */
export function inventoryEntry(inventory: Inventory | undefined, hostname: string): { labels: Record<string, string> } | undefined {
  if (!inventory) return undefined;
  if (Object.hasOwn(inventory, hostname)) return inventory[hostname];
  const short = shortName(hostname);
  return Object.hasOwn(inventory, short) ? inventory[short] : undefined;
}

/** The host's labels: its inventory entry's, then settings.labels (host-local) over them. */
export function hostIdentity(policySet: Pick<PolicySet, 'settings' | 'inventory'>, hostname: string): HostIdentity {
  return { name: hostname, labels: { ...(inventoryEntry(policySet.inventory, hostname)?.labels ?? {}), ...(policySet.settings.labels ?? {}) } };
}

/** No selector selects every host. Names match the whole hostname or its short name, case-insensitively, as DNS does. */
export function selectsHost(selector: HostSelector | undefined, host: HostIdentity): boolean {
  if (!selector) return true;
  if (selector.names !== undefined && !selector.names.some((glob) => globMatches(glob, host.name) || globMatches(glob, shortName(host.name)))) return false;
  return Object.entries(selector.labels ?? {}).every(([key, value]) => Object.hasOwn(host.labels, key) && host.labels[key] === value);
}

/** Why an entry is not for a host, in a few words: "hosts: names web*" or "hosts: labels role=db". */
export function selectorText(selector: HostSelector): string {
  const parts: string[] = [];
  if (selector.names) parts.push(`names ${selector.names.join(', ')}`);
  const labels = Object.entries(selector.labels ?? {});
  if (labels.length > 0) parts.push(`labels ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  return `hosts: ${parts.join('; ')}`;
}

export interface HostSelection {
  /** The set as this host runs it: only what is for it; notify rules to a notifier not for it are dropped. */
  active: PolicySet;
  /** The names of what is not for this host. */
  inactive: { policies: string[]; notifiers: string[]; supervisors: string[] };
}

/** The part of a policy set that is for this host. */
export function selectForHost(policySet: PolicySet, host: HostIdentity): HostSelection {
  const policies = policySet.policies.filter((p) => selectsHost(p.hosts, host));
  const notifiers = policySet.notifiers.filter((n) => selectsHost(n.hosts, host));
  const supervisors = policySet.supervisors.filter((s) => selectsHost(s.hosts, host));
  const inactive = {
    policies: policySet.policies.filter((p) => !policies.includes(p)).map((p) => p.name),
    notifiers: policySet.notifiers.filter((n) => !notifiers.includes(n)).map((n) => n.name),
    supervisors: policySet.supervisors.filter((s) => !supervisors.includes(s)).map((s) => s.name),
  };
  if (inactive.policies.length + inactive.notifiers.length + inactive.supervisors.length === 0) return { active: policySet, inactive };
  const reachable = new Set(notifiers.map((n) => n.name));
  const active: PolicySet = {
    ...policySet,
    supervisors,
    notifiers,
    policies: policies.map((p) => (p.notify.every((rule) => reachable.has(rule.to)) ? p : { ...p, notify: p.notify.filter((rule) => reachable.has(rule.to)) })),
  };
  return { active, inactive };
}

function shortName(hostname: string): string {
  const dot = hostname.indexOf('.');
  return dot > 0 ? hostname.slice(0, dot) : hostname;
}

const globCache = new Map<string, RegExp>();

/** Shell-style glob on a whole hostname: * any run of characters, ? one, [abc] / [a-z] / [!abc] one of a set. */
export function globMatches(glob: string, name: string): boolean {
  let regex = globCache.get(glob);
  if (!regex) {
    regex = new RegExp(`^${globSource(glob)}$`, 'i');
    globCache.set(glob, regex);
  }
  return regex.test(name);
}

function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const ch = glob[i]!;
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      out += `[${negated ? '^' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, (c) => `\\${c}`);
  }
  return out;
}
