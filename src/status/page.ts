// The status page: rendered on the server from the status document with handlebars, one
// HTML file with its own styles, no script and no external asset; it reloads itself.

import type { TemplateDelegate } from 'handlebars';
import { plural, printable } from '../shared/text.js';
import { handlebars } from '../shared/handlebars.js';
import { formatBytes, formatDuration, formatPercent } from '../shared/units.js';
import type { PolicyView, StatusDocument } from './board.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="{{refresh}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>procguard on {{status.host}}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0 0 .2em; } h2 { font-size: 1.15em; margin: 1.6em 0 .4em; }
.meta { color: #555; } .error { color: #b00020; } .warn { color: #8a5a00; } .ok { color: #1b6e20; }
table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: .8em; }
th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { display: inline-block; width: 6em; height: .6em; background: #e3e3e3; margin-right: .4em; vertical-align: middle; }
.bar span { display: block; height: 100%; background: #1b6e20; } .bar span.high { background: #8a5a00; } .bar span.over { background: #b00020; }
code { font-size: .92em; } ul.errors { margin: .2em 0; padding-left: 1.2em; }
</style>
</head>
<body>
<h1>procguard on {{status.host}}</h1>
<table id="summary"><tr><th>Supervisors</th><th>Programs</th><th>Over limit</th><th>Paused</th><th>Failing</th><th>Last cycle</th></tr>
<tr><td class="{{#if status.summary.supervisors.down}}error{{else}}ok{{/if}}">{{status.summary.supervisors.up}} up, {{status.summary.supervisors.down}} down</td><td>{{status.summary.programs}}</td><td{{#if status.summary.over_limit}} class="warn"{{/if}}>{{status.summary.over_limit}}</td><td>{{status.summary.paused}}</td><td{{#if status.summary.failing}} class="error"{{/if}}>{{status.summary.failing}}</td><td>{{#if status.last_cycle}}{{time status.last_cycle.time}} ({{ago status.last_cycle.time status.now}} ago){{else}}none yet{{/if}}</td></tr>
</table>
<p class="meta">{{plural status.cycles "cycle"}} since {{time status.started}}{{#if status.last_cycle}}; the last at {{time status.last_cycle.time}}, {{status.last_cycle.duration_ms}} ms, {{plural status.last_cycle.processes "process" "processes"}}{{else}}; no cycle has run yet{{/if}}. {{plural status.config.policies "policy" "policies"}} from {{plural status.config.files.length "file"}}. This page reloads every {{refresh}} s.</p>
{{#if status.last_failure}}<p class="error" id="last-failure">Last failed cycle at {{time status.last_failure.time}}: {{status.last_failure.message}}</p>{{/if}}

<h2 id="config">Configuration</h2>
{{#if status.config.errors.length}}
<p class="error">The last reload{{#if status.config.last_reload}} ({{status.config.last_reload.trigger}}, {{time status.config.last_reload.time}}){{/if}} was refused; the policies in force are the last good ones:</p>
<ul class="errors">{{#each status.config.errors}}<li class="error"><code>{{this}}</code></li>{{/each}}</ul>
{{else}}
<p class="ok">No load errors.{{#if status.config.last_reload}} Last reload: {{status.config.last_reload.trigger}}, {{time status.config.last_reload.time}}.{{/if}}</p>
{{/if}}
{{#each status.last_cycle.errors}}<p class="warn">Collector {{source}}: {{message}}</p>{{/each}}
{{#each status.warnings}}<p class="warn warning">Warning: {{this}}</p>{{/each}}

{{#each status.supervisors}}
<h2 class="supervisor">Supervisor {{name}} <span class="meta">{{url}}</span></h2>
{{#if error}}<p class="error">{{#if unanswered}}Not answering since {{time unanswered.since}} ({{plural unanswered.cycles "cycle"}}): {{/if}}{{error}}</p>{{/if}}
{{#if warning}}<p class="warn">{{warning}}</p>{{/if}}
{{#if processes.length}}{{> processes processes}}{{else}}{{#unless error}}{{#unless warning}}<p class="meta">No programs.</p>{{/unless}}{{/unless}}{{/if}}
{{else}}
<h2>Supervisors</h2><p class="meta">None configured.</p>
{{/each}}

{{#if status.processes.length}}
<h2>Other processes the policies match</h2>
{{> processes status.processes}}
{{/if}}

<h2 id="policies">Policies</h2>
<table class="policies"><tr><th>Policy</th><th>Kind</th><th>Enforces</th><th class="num">Matched</th></tr>
{{#each status.policies}}<tr class="policy"><td>{{name}}{{#if (isAudit mode)}} <span class="meta">(audit)</span>{{/if}}</td><td>{{kind}}</td><td>{{enforces}}</td><td class="num">{{#if (isFalse for_this_host)}}<span class="meta">not for this host ({{hosts}})</span>{{else if matched}}{{matched}}{{else}}0 <span class="meta">(matches nothing)</span>{{/if}}</td></tr>{{/each}}
</table>

<h2 id="paused">Paused</h2>
{{#if status.paused.length}}
<table><tr><th>Process</th><th>Policy</th><th class="num">Tree</th><th>Since</th></tr>
{{#each status.paused}}<tr class="paused"><td>{{#if namespec}}{{namespec}}{{else}}{{name}}{{/if}} (pid {{pid}})</td><td>{{policy}}</td><td class="num">{{processes}}</td><td>{{time since}} ({{ago since ../status.now}} ago)</td></tr>{{/each}}
</table>
{{else}}<p class="meta">Nothing is paused.</p>{{/if}}

<h2 id="lasting">Failing</h2>
{{#if status.lasting.length}}
<table><tr><th>Policy</th><th>What</th><th>Target</th><th>First seen</th><th>Last seen</th><th class="num">Attempts</th><th>Why</th></tr>
{{#each status.lasting}}<tr class="lasting {{kind}}"><td>{{policy}}</td><td>{{action}}</td><td>{{#if target.namespec}}{{target.namespec}}{{else}}{{target.name}}{{/if}} (pid {{target.pid}})</td><td>{{time first_seen}}</td><td>{{time last_seen}}</td><td class="num">{{attempts}}</td><td>{{#if error}}<span class="error">{{error}}</span>{{#if next_attempt}} <span class="meta">(next attempt in {{plural next_attempt.in_cycles "cycle"}}, by {{time next_attempt.by}})</span>{{/if}}{{else}}<span class="warn">audit mode: not acted on</span>{{/if}}</td></tr>{{/each}}
</table>
{{else}}<p class="meta">Nothing is failing.</p>{{/if}}

<h2 id="recent">Recent actions and notifications</h2>
{{#if status.recent.length}}
<table><tr><th>When</th><th>Policy</th><th>What</th><th>Target</th><th>Status</th><th>Why</th></tr>
{{#each status.recent}}<tr class="recent {{type}}"><td>{{time time}}</td><td>{{policy}}</td><td>{{what}}</td><td>{{#if target}}{{#if target.namespec}}{{target.namespec}}{{else}}{{target.name}}{{/if}} (pid {{target.pid}}){{/if}}</td><td class="{{statusClass status}}">{{status}}</td><td>{{reason}}{{#if error}} <span class="error">→ {{error}}</span>{{/if}}{{#if result}} <span class="meta">→ {{result}}</span>{{/if}}</td></tr>{{/each}}
</table>
{{else}}<p class="meta">Nothing done yet.</p>{{/if}}
</body>
</html>
`;

const PROCESSES = `<table class="processes"><tr><th>Process</th><th>State</th><th class="num">PID</th><th class="num">Uptime</th><th class="num">RSS</th><th>Policies</th></tr>
{{#each this}}<tr class="process"><td>{{#if namespec}}{{namespec}}{{else}}{{name}}{{/if}}</td><td>{{#if paused}}<span class="warn">paused since {{time paused.since}}</span> <span class="meta">({{paused.policy}})</span>{{else}}{{state}}{{/if}}</td><td class="num">{{#if pid}}{{pid}}{{/if}}</td><td class="num">{{#if uptime}}{{duration uptime}}{{/if}}</td><td class="num">{{#if rss}}{{bytes rss}}{{/if}}</td><td>{{#each policies}}<div>{{policy}}: {{#if headroom}}<span class="bar"><span class="{{barClass headroom}}" style="width: {{barWidth headroom}}%"></span></span>{{headroomText headroom}}{{else}}{{detail}}{{/if}}</div>{{/each}}</td></tr>{{/each}}
</table>`;

let template: TemplateDelegate | undefined;

function compiled(): TemplateDelegate {
  if (template) return template;
  const hb = handlebars().create();
  hb.registerPartial('processes', PROCESSES);
  hb.registerHelper('time', (seconds: number) =>
    new Date(seconds * 1000)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC'),
  );
  hb.registerHelper('ago', (since: number, now: number) => formatDuration(Math.max(0, now - since)));
  hb.registerHelper('duration', (seconds: number) => formatDuration(seconds));
  hb.registerHelper('bytes', (bytes: number) => formatBytes(bytes));
  hb.registerHelper('plural', (count: number, one: string, many: unknown) => plural(count, one, typeof many === 'string' ? many : undefined));
  hb.registerHelper('isAudit', (mode: string) => mode === 'audit');
  hb.registerHelper('isFalse', (value: unknown) => value === false);
  hb.registerHelper('statusClass', (status: string) => (status === 'failed' ? 'error' : status === 'done' ? 'ok' : 'warn'));
  hb.registerHelper('barWidth', (h: NonNullable<PolicyView['headroom']>) => Math.min(100, Math.max(0, h.used_percent)));
  hb.registerHelper('barClass', (h: NonNullable<PolicyView['headroom']>) => (h.left < 0 ? 'over' : h.used_percent >= 80 ? 'high' : ''));
  hb.registerHelper('headroomText', headroomText);
  template = hb.compile(PAGE, { strict: false });
  return template;
}

/** "pss 1.2 GiB of 15% (2.4 GiB), 1.2 GiB left": the measure's name, its figure against the limit (a share with its bytes), and the room left. */
export function headroomText(h: NonNullable<PolicyView['headroom']>): string {
  const show = h.unit === 'bytes' ? formatBytes : h.unit === 'seconds' ? formatDuration : h.unit === 'percent' ? formatPercent : (n: number) => String(n);
  const what = h.name !== undefined ? `${h.name} ` : '';
  const limit = h.limit_percent !== undefined ? `${h.limit_percent}% (${show(h.limit)})` : show(h.limit);
  return h.left >= 0 ? `${what}${show(h.value)} of ${limit}, ${show(h.left)} left` : `${what}${show(h.value)}, over ${limit} by ${show(-h.left)}`;
}

export function renderPage(status: StatusDocument, refreshSeconds: number): string {
  return compiled()({ status: printableStrings(status), refresh: refreshSeconds });
}

/**
 * Every string of the document as the CLI shows it: control, bidirectional and zero-width
 * characters written as \\u escapes (handlebars then escapes HTML), so a process name cannot
 * reorder or hide what the page says.
 */
function printableStrings<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map(printableStrings) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, printableStrings(inner)])) as T;
  }
  return value;
}
