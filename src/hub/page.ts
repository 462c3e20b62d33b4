// The hub's page: the fleet summary first, then the hosts grouped by a label, each with its
// supervisors and programs (headroom bars), paused trees and recent actions. One HTML file
// rendered on the server, no script, no external asset; filters, search, grouping and order
// are a GET form and links (the query string), so it works without JavaScript. Written with
// template strings rather than handlebars: 500 hosts of 100 programs render in a few tens of ms.

import { plural, printable } from '../shared/text.js';
import { formatBytes, formatDuration } from '../shared/units.js';
import type { PolicyView, ProcessView, StatusDocument } from '../status/board.js';
import { headroomText } from '../status/page.js';
import { compareText, programName, usedPercent, type FleetDocument, type FleetHost, type FleetQuery } from './fleet.js';

const RECENT_PER_HOST = 5;

const STYLE = `body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.2em; margin: 1.6em 0 .4em; border-bottom: 2px solid #ccc; } h3 { font-size: 1.05em; margin: 1em 0 .3em; }
.meta { color: #555; } .error, span.offline { color: #b00020; } .warn, span.stale { color: #8a5a00; } .ok, span.up { color: #1b6e20; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: .6em; }
th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; width: 6em; height: .6em; background: #e3e3e3; margin-right: .4em; vertical-align: middle; }
.bar span { display: block; height: 100%; background: #1b6e20; } .bar span.high { background: #8a5a00; } .bar span.over { background: #b00020; }
section.host { background: #fff; border: 1px solid #e3e3e3; padding: .2em .8em .6em; margin: .6em 0; } section.host.stale { border-color: #d9b36c; } section.host.offline { border-color: #e09090; }
.label { display: inline-block; background: #eef; border-radius: 3px; padding: 0 .3em; margin-right: .3em; font-size: .9em; }
form { margin: .6em 0; } form label { margin-right: .8em; }`;

export function renderFleetPage(fleet: FleetDocument, refreshSeconds: number, labelNames: readonly string[]): string {
  const { summary, query } = fleet;
  const out: string[] = [];
  const filtered = query.label.length > 0 || query.q !== undefined || query.host !== undefined || query.state !== undefined;
  out.push(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${refreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>procguard hub: ${plural(fleet.hosts.length, 'host')}</title>
<style>
${STYLE}
</style>
</head>
<body>
<h1>procguard hub</h1>
<table id="summary"><tr><th>Hosts</th><th>Programs</th><th>Over limit</th><th>Paused</th><th>Failing</th><th>Actions (last hour)</th><th>Last round</th></tr>
<tr><td><span class="up">${summary.hosts.up} up</span>, <span class="${summary.hosts.stale ? 'stale' : 'meta'}">${summary.hosts.stale} stale</span>, <span class="${summary.hosts.offline ? 'offline' : 'meta'}">${summary.hosts.offline} offline</span></td><td class="num">${summary.programs}</td><td class="num${summary.over_limit ? ' warn' : ''}">${summary.over_limit}</td><td class="num">${summary.paused}</td><td class="num${summary.failing ? ' error' : ''}">${summary.failing}</td><td class="num">${summary.actions_last_hour}</td><td>${fleet.last_round ? `${time(fleet.last_round.started)}, ${plural(fleet.last_round.agents, 'agent')} in ${fleet.last_round.duration_ms} ms` : 'none yet'}</td></tr>
</table>
<p class="meta">${filtered ? 'Counts over the hosts shown. ' : ''}Each agent is asked every ${formatDuration(fleet.interval)} and given ${formatDuration(fleet.timeout)} to answer; one that does not is shown stale with its last answer, then offline. This page reloads every ${refreshSeconds} s.</p>
${queryForm(query, labelNames)}`);

  if (fleet.hosts.length === 0) out.push(`<p class="meta" id="no-hosts">${filtered ? 'No host matches.' : 'No agents configured.'}</p>`);
  for (const [group, hosts] of grouped(fleet.hosts, query.group)) {
    if (query.group !== undefined)
      out.push(
        `<h2 class="group">${escape(query.group)} = ${group === undefined ? '<span class="meta">(none)</span>' : escape(group)} <span class="meta">(${plural(hosts.length, 'host')})</span></h2>`,
      );
    for (const host of hosts) renderHost(out, host, fleet.now, query);
  }
  out.push('</body>\n</html>\n');
  return out.join('\n');
}

function queryForm(query: FleetQuery, labelNames: readonly string[]): string {
  const option = (value: string, text: string, current: string | undefined) => `<option value="${escape(value)}"${value === (current ?? '') ? ' selected' : ''}>${escape(text)}</option>`;
  return `<form method="get" action="/" id="filter">
<label>Search host or program <input type="search" name="q" value="${escape(query.q ?? '')}"></label>
<label>Label <input type="text" name="label" placeholder="env:prod" value="${escape(query.label[0] ?? '')}"></label>
<label>State <select name="state">${option('', 'any', query.state)}${option('up', 'up', query.state)}${option('stale', 'stale', query.state)}${option('offline', 'offline', query.state)}</select></label>
<label>Group by <select name="group">${option('', 'nothing', query.group)}${labelNames.map((name) => option(name, name, query.group)).join('')}</select></label>
<label>Order <select name="sort">${option('name', 'by name', query.sort)}${option('headroom', 'least headroom first', query.sort)}</select></label>
<button type="submit">Show</button> <a href="/">all hosts</a>
</form>`;
}

function grouped(hosts: readonly FleetHost[], label: string | undefined): [string | undefined, FleetHost[]][] {
  if (label === undefined) return [[undefined, [...hosts]]];
  const groups = new Map<string | undefined, FleetHost[]>();
  for (const host of hosts) {
    const value = Object.hasOwn(host.labels, label) ? host.labels[label] : undefined;
    groups.set(value, [...(groups.get(value) ?? []), host]);
  }
  // Hosts without the label last.
  return [...groups].sort(([a], [b]) => (a === undefined ? 1 : b === undefined ? -1 : compareText(a, b)));
}

function renderHost(out: string[], host: FleetHost, now: number, query: FleetQuery): void {
  const labels = Object.entries(host.labels)
    .sort(([a], [b]) => compareText(a, b))
    .map(([k, v]) => `<a class="label" href="${link(query, { label: `${k}:${v}` })}">${escape(k)}=${escape(v)}</a>`)
    .join('');
  const answered = host.age !== undefined ? `answered ${formatDuration(host.age)} ago` : 'never answered';
  out.push(`<section class="host ${host.state}" id="host-${escape(host.name)}" data-host="${escape(host.name)}" data-state="${host.state}">
<h3><a href="/?host=${encodeURIComponent(host.name)}">${escape(host.name)}</a> <span class="state ${host.state}">${host.state}</span> ${labels} <span class="meta">${escape(host.url)}</span></h3>`);
  const status = host.status;
  const detail = [answered, ...(host.poll_ms !== undefined ? [`last asked in ${host.poll_ms} ms`] : []), ...(status ? [`agent on ${escape(status.host)}`] : [])];
  out.push(
    `<p class="meta">${detail.join('; ')}${host.error !== undefined ? `; <span class="error">${escape(host.error)}</span>` : ''}${host.least_headroom ? `; least headroom: ${escape(host.least_headroom.program)} at ${host.least_headroom.used_percent}% of ${escape(host.least_headroom.policy)}` : ''}</p>`,
  );
  if (!status || host.state === 'offline') {
    out.push('</section>');
    return;
  }
  const s = status.summary;
  out.push(
    `<p>${s ? `Supervisors ${s.supervisors.up} up${s.supervisors.down ? `, <span class="error">${s.supervisors.down} down</span>` : ''}; ${plural(s.programs, 'program')}; over limit <span${s.over_limit ? ' class="warn"' : ''}>${s.over_limit}</span>; paused ${s.paused}; failing <span${s.failing ? ' class="error"' : ''}>${s.failing}</span>` : ''}${status.last_cycle ? `; last cycle ${formatDuration(Math.max(0, status.now - status.last_cycle.time))} before its answer` : ''}${status.last_failure ? `; <span class="error">last failed cycle: ${escape(status.last_failure.message)}</span>` : ''}</p>`,
  );
  for (const error of status.config?.errors ?? []) out.push(`<p class="error">Configuration: ${escape(error)}</p>`);
  out.push(programsOf(status, query, host.listed !== undefined));
  if (host.listed) {
    out.push(
      `<p class="meta more">${host.listed.programs} of ${plural(host.listed.of, 'program')} listed: those that need a look and those with the least headroom. <a href="/?host=${encodeURIComponent(host.name)}">All of ${escape(host.name)}</a></p>`,
    );
  }
  if (status.paused.length > 0) {
    out.push('<table class="paused"><tr><th>Paused</th><th>Policy</th><th class="num">Tree</th><th>Since</th></tr>');
    for (const p of status.paused)
      out.push(
        `<tr class="paused"><td>${escape(p.namespec ?? p.name)} (pid ${p.pid})</td><td>${escape(p.policy)}</td><td class="num">${p.processes}</td><td>${time(p.since)} (${formatDuration(Math.max(0, now - p.since))} ago)</td></tr>`,
      );
    out.push('</table>');
  }
  const recent = status.recent.filter((r) => r.type === 'action').slice(0, RECENT_PER_HOST);
  if (recent.length > 0) {
    out.push('<table class="recent"><tr><th>When</th><th>Policy</th><th>Action</th><th>Target</th><th>Status</th><th>Why</th></tr>');
    for (const r of recent) {
      const target = r.target ? `${escape(r.target.namespec ?? r.target.name ?? '')} (pid ${r.target.pid})` : '';
      const cls = r.status === 'failed' ? 'error' : r.status === 'done' ? 'ok' : 'warn';
      out.push(
        `<tr class="recent"><td>${time(r.time)}</td><td>${escape(r.policy)}</td><td>${escape(r.what)}</td><td>${target}</td><td class="${cls}">${escape(r.status)}</td><td>${escape(r.reason ?? '')}${r.error !== undefined ? ` <span class="error">→ ${escape(r.error)}</span>` : ''}</td></tr>`,
      );
    }
    out.push('</table>');
  }
  out.push('</section>');
}

/** An answer's supervisors and programs as HTML: drawn once per answer and order, as an answer is replaced, never changed. */
const drawn = new WeakMap<StatusDocument, Map<FleetQuery['sort'], string>>();

function programsOf(status: StatusDocument, query: FleetQuery, shortened: boolean): string {
  let byOrder = drawn.get(status);
  const kept = byOrder?.get(query.sort);
  if (kept !== undefined) return kept;
  const out: string[] = [];
  for (const sv of status.supervisors) {
    out.push(`<h4 class="supervisor">Supervisor ${escape(sv.name)}${sv.error !== undefined ? ` <span class="error">${escape(sv.error)}</span>` : ''}</h4>`);
    renderPrograms(out, sv.processes, query, shortened);
  }
  if (status.processes.length > 0) {
    out.push('<h4>Other processes the policies match</h4>');
    renderPrograms(out, status.processes, query, shortened);
  }
  const html = out.join('\n');
  if (!byOrder) drawn.set(status, (byOrder = new Map()));
  byOrder.set(query.sort, html);
  return html;
}

function renderPrograms(out: string[], list: readonly ProcessView[], query: FleetQuery, shortened: boolean): void {
  const shown = [...list];
  if (query.sort === 'headroom') shown.sort((a, b) => (usedPercent(b) ?? -1) - (usedPercent(a) ?? -1));
  if (list.length === 0) {
    if (!shortened) out.push('<p class="meta">No programs.</p>');
    return;
  }
  out.push('<table class="programs"><tr><th>Program</th><th>State</th><th class="num">PID</th><th class="num">Uptime</th><th class="num">RSS</th><th>Headroom</th></tr>');
  for (const p of shown) {
    const state = p.paused ? `<span class="warn">paused since ${time(p.paused.since)}</span> <span class="meta">(${escape(p.paused.policy)})</span>` : escape(p.state ?? '');
    out.push(
      `<tr class="program"><td>${escape(programName(p))}</td><td>${state}</td><td class="num">${p.pid || ''}</td><td class="num">${p.uptime !== undefined ? formatDuration(p.uptime) : ''}</td><td class="num">${p.rss !== undefined ? formatBytes(p.rss) : ''}</td><td>${(p.policies ?? []).map(policyCell).join('')}</td></tr>`,
    );
  }
  out.push('</table>');
}

function policyCell(policy: PolicyView): string {
  const h = policy.headroom;
  if (!h) return `<div>${escape(policy.policy)}: ${escape(policy.detail)}</div>`;
  const width = Math.min(100, Math.max(0, h.used_percent));
  const cls = h.left < 0 ? 'over' : h.used_percent >= 80 ? 'high' : '';
  const text = headroomText(h);
  return `<div>${escape(policy.policy)}: <span class="bar"><span class="${cls}" style="width: ${width}%"></span></span>${escape(text)}</div>`;
}

/** The page's query with one change, as a link. */
function link(query: FleetQuery, change: { label: string }): string {
  const params = new URLSearchParams();
  if (query.q !== undefined) params.set('q', query.q);
  params.append('label', change.label);
  if (query.group !== undefined) params.set('group', query.group);
  if (query.sort !== 'name') params.set('sort', query.sort);
  return escape(`/?${params.toString()}`);
}

function time(seconds: number): string {
  return new Date(seconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;', '=': '&#61;' };

/** As the agent's page: unprintable characters as \\u escapes, then HTML escaped, so a process name cannot reorder or hide what the page says. */
export function escape(text: string): string {
  return printable(String(text)).replace(/[&<>"'`=]/g, (c) => HTML_ESCAPES[c]!);
}
