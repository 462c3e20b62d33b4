import assert from 'node:assert/strict';
import { diagnosticLines, validateTexts, yaml } from '../helpers/policy-files.js';

interface Case {
  name: string;
  files: Record<string, string>;
  expected: string[];
}

const MEMORY = yaml`
  policies:
    - name: web-memory
      kind: memory
      match: { program: "web:*" }
      max_rss: 200MB
`;

const OPS = yaml`
  notifiers:
    ops:
      mail: { to: ops@example.com }
`;

const invalid: Case[] = [
  {
    name: 'misspelt key gets the memmon meaning and the allowed keys',
    files: {
      'a.yaml': yaml`
        policies:
          - name: web-memory
            kind: memory
            match: { program: "web:*" }
            max_rss: 200MB
            cumulativ: true
      `,
    },
    expected: [
      'a.yaml:6:5: error: Unexpected key "cumulativ" in policy "web-memory"; did you mean "scope: tree"? Allowed keys: name, kind, description, mode, match, hosts, notify, max_rss, max_pss, max_uss, max_swap, scope, for, action, grace, max_actions, only_when',
    ],
  },
  {
    name: 'a key of another kind names that kind',
    files: {
      'a.yaml': yaml`
        policies:
          - name: backup
            kind: load
            match: { cmdline: "^rsync " }
            pause_above: 4
            max_rss: 1GB
      `,
    },
    expected: [
      'a.yaml:6:5: error: Unexpected key "max_rss" in policy "backup": "max_rss" belongs to memory policies and this one has kind load. Allowed keys: name, kind, description, mode, match, hosts, notify, source, pause_above, resume_below, average, max_pause',
    ],
  },
  {
    name: 'misspelt top-level section',
    files: { 'a.yaml': 'polices: []\n' },
    expected: ['a.yaml:1:1: error: Unexpected key "polices" at the top level; did you mean "policies"? Allowed keys: settings, supervisors, notifiers, policies, inventory'],
  },
  {
    name: 'a plain password is pointed to password_env/password_file',
    files: { 'a.yaml': 'supervisors:\n  main:\n    url: unix:///run/supervisor.sock\n    password: hunter2\n' },
    expected: [
      'a.yaml:4:5: error: Unexpected key "password" in supervisor "main"; did you mean "password_env or password_file"? Allowed keys: url, username, password_env, password_file, user, timeout, hosts',
    ],
  },
  {
    name: 'unknown kind suggests the nearest',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: mem\n    match: { name: x }\n' },
    expected: ['a.yaml:3:11: error: Unknown kind "mem" in policy "a"; use one of memory, oom, load, runtime, cpu; did you mean "memory"?'],
  },
  {
    name: 'missing kind',
    files: { 'a.yaml': 'policies:\n  - name: a\n    match: { name: x }\n' },
    expected: ['a.yaml:2:5: error: Policy "a" has no "kind"; use one of memory, oom, load, runtime, cpu'],
  },
  {
    name: 'missing required key of the kind',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: runtime\n    match: { name: x }\n' },
    expected: ['a.yaml:2:5: error: Policy "a" (kind runtime) is missing required key "max_runtime"'],
  },
  {
    name: 'a policy without a name is named by its position',
    files: { 'a.yaml': 'policies:\n  - kind: oom\n    match: { name: x }\n    oom_score_adj: 0\n' },
    expected: ['a.yaml:2:5: error: Policy #1 (kind oom) is missing required key "name"'],
  },
  {
    name: 'bad size names the accepted units',
    files: { 'a.yaml': MEMORY.replace('200MB', '200XB') },
    expected: [
      'a.yaml:5:14: error: Invalid size "200XB" for "max_rss" in policy "web-memory": use a number of bytes or a number with KB, MB, GB (1024-based, any case) or KiB, MiB, GiB, e.g. 200MB, or a share of the host\'s memory from 0% to 100%, e.g. 15%',
    ],
  },
  {
    name: 'a fractional number of bytes is not a size',
    files: { 'a.yaml': MEMORY.replace('200MB', '1.5') },
    expected: [
      'a.yaml:5:14: error: Invalid size 1.5 for "max_rss" in policy "web-memory": use a number of bytes or a number with KB, MB, GB (1024-based, any case) or KiB, MiB, GiB, e.g. 200MB, or a share of the host\'s memory from 0% to 100%, e.g. 15%',
    ],
  },
  {
    name: 'zero max_rss',
    files: { 'a.yaml': MEMORY.replace('200MB', '0MB') },
    expected: ['a.yaml:5:14: warning: "max_rss" is 0 in policy "web-memory": every matched process is over it and is acted on every cycle (as memmon NAME=0)'],
  },
  {
    name: 'bad duration names the accepted units',
    files: { 'a.yaml': 'settings:\n  interval: 1.5m\n' },
    expected: ['a.yaml:2:13: error: Invalid duration "1.5m" for "interval" in settings: use a number of seconds or a whole number with s, m, h or d, e.g. 90s, 30m, 2d'],
  },
  {
    name: 'a week is not a duration unit',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops, uptime_at_most: 1w }]\n${OPS}` },
    expected: ['a.yaml:6:41: error: Invalid duration "1w" for "notify[0].uptime_at_most" in policy "web-memory": use a number of seconds or a whole number with s, m, h or d, e.g. 90s, 30m, 2d'],
  },
  {
    name: 'wrong type says what was expected and what was found',
    files: { 'a.yaml': `${MEMORY}    for: two\n` },
    expected: ['a.yaml:6:10: error: "for" in policy "web-memory" must be a whole number, not "two"'],
  },
  {
    name: 'out of range counter',
    files: { 'a.yaml': `${MEMORY}    for: 0\n` },
    expected: ['a.yaml:6:10: error: "for" in policy "web-memory" must be at least 1, not 0'],
  },
  {
    name: 'enum value suggests the nearest',
    files: { 'a.yaml': `${MEMORY}    scope: procces\n` },
    expected: ['a.yaml:6:12: error: "scope" in policy "web-memory" must be one of process, tree, group, not "procces"; did you mean "process"?'],
  },
  {
    name: 'unknown action',
    files: { 'a.yaml': `${MEMORY}    action: restrat\n` },
    expected: ['a.yaml:6:13: error: "action" in policy "web-memory" must be restart, stop, kill or {signal: NAME}, not "restrat"; did you mean "restart"?'],
  },
  {
    name: 'unknown signal',
    files: { 'a.yaml': `${MEMORY}    action: { signal: HANGUP }\n` },
    expected: ['a.yaml:6:23: error: Unknown signal "HANGUP" in "action.signal" in policy "web-memory": use a name such as HUP, INT, TERM, USR1 or USR2, with or without "SIG"'],
  },
  {
    name: 'oom_score_adj out of range',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: { name: sshd, user: root }\n    oom_score_adj: -1001\n' },
    expected: ['a.yaml:5:20: error: "oom_score_adj" in policy "a" must be between -1000 and 1000, not -1001'],
  },
  {
    name: 'oom_adj out of range',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: { name: sshd }\n    oom_adj: 16\n' },
    expected: ['a.yaml:5:14: error: "oom_adj" in policy "a" must be between -17 and 15, not 16'],
  },
  {
    name: 'oom_score_adj together with oom_adj',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: { name: sshd, user: root }\n    oom_adj: -17\n    oom_score_adj: -1000\n' },
    expected: ['a.yaml:2:5: error: Policy "a" sets both "oom_score_adj" and "oom_adj"; use only one'],
  },
  {
    name: 'oom policy with no value',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: { name: sshd }\n' },
    expected: ['a.yaml:2:5: error: Policy "a" needs "oom_score_adj" or "oom_adj"'],
  },
  {
    name: 'resume_below not below pause_above',
    files: {
      'a.yaml': 'policies:\n  - name: a\n    kind: load\n    match: { cmdline: "^rsync " }\n    pause_above: 2.0\n    resume_below: 2.0\n',
    },
    expected: ['a.yaml:6:19: error: "resume_below" (2) must be lower than "pause_above" (2) in policy "a", or the process would be paused and resumed on the same load'],
  },
  {
    name: 'pause_above must be positive',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: load\n    match: { cmdline: "^rsync " }\n    pause_above: 0\n' },
    expected: ['a.yaml:5:18: error: "pause_above" in policy "a" must be greater than 0, not 0'],
  },
  {
    name: 'empty match',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: {}\n    oom_score_adj: 0\n' },
    expected: ['a.yaml:4:12: error: Empty "match" in policy "a": a policy must say which processes it applies to; give at least one of program, group, supervisor, name, cmdline, exe, user, pidfile'],
  },
  {
    name: 'match with only exclude',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: { exclude: { user: root } }\n    oom_score_adj: 0\n' },
    expected: ['a.yaml:4:12: error: The match of policy "a" has only "exclude": say which processes it applies to before subtracting some'],
  },
  {
    name: 'regex that does not compile, in cmdline and in /name/',
    files: {
      'a.yaml': 'policies:\n  - name: a\n    kind: oom\n    match: { cmdline: "^rsync (", name: ["ok", "/[a-/"] }\n    oom_score_adj: 0\n',
    },
    expected: [
      'a.yaml:4:23: error: Invalid regular expression "^rsync (" in policy "a": Unterminated group',
      'a.yaml:4:48: error: Invalid regular expression "[a-" in policy "a": Unterminated character class',
    ],
  },
  {
    name: 'invalid policy name',
    files: { 'a.yaml': 'policies:\n  - name: Web_Memory\n    kind: oom\n    match: { name: x }\n    oom_score_adj: 0\n' },
    expected: ['a.yaml:2:11: error: Invalid policy name "Web_Memory": use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit'],
  },
  {
    name: 'supervisor URL',
    files: { 'a.yaml': 'supervisors:\n  main:\n    url: /var/run/supervisor.sock\n' },
    expected: ['a.yaml:3:10: error: "url" in supervisor "main" must be unix:///path/to/supervisor.sock or http://host:port, not "/var/run/supervisor.sock"'],
  },
  {
    name: 'supervisor URLs the pattern lets through but no client can connect to (a hex port, a zone id, a port past 65535)',
    files: { 'a.yaml': 'supervisors:\n  a: { url: "http://127.0.0.1:0x10" }\n  b: { url: "http://[::1%25lo]:9001" }\n  c: { url: "http://127.0.0.1:70000" }\n' },
    expected: [
      'a.yaml:2:13: error: The url of supervisor "a" is not a URL that can be connected to: "http://127.0.0.1:0x10" (use http://host:port with a port up to 65535, without a zone id)',
      'a.yaml:3:13: error: The url of supervisor "b" is not a URL that can be connected to: "http://[::1%25lo]:9001" (use http://host:port with a port up to 65535, without a zone id)',
      'a.yaml:4:13: error: The url of supervisor "c" is not a URL that can be connected to: "http://127.0.0.1:70000" (use http://host:port with a port up to 65535, without a zone id)',
    ],
  },
  {
    name: 'password_env and password_file together',
    files: { 'a.yaml': 'supervisors:\n  main:\n    url: http://127.0.0.1:9001\n    password_env: PW\n    password_file: /etc/pw\n' },
    expected: ['a.yaml:3:5: error: Supervisor "main" sets both "password_env" and "password_file"; use only one'],
  },
  {
    name: 'notifier with neither mail nor exec',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops: { timeout: 5s }\n` },
    expected: ['a.yaml:8:8: error: Notifier "ops" needs "mail", "exec", "alertmanager" or "webhook"'],
  },
  {
    name: 'notifier with both mail and exec',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops: { mail: { to: a@example.com }, exec: [/bin/true] }\n` },
    expected: ['a.yaml:8:8: error: Notifier "ops" sets both "mail" and "exec"; use only one'],
  },
  {
    name: 'sendmail together with smtp, and a bad address',
    files: {
      'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops:\n    mail: { to: [ops@example.com, "ops team"], sendmail: /usr/sbin/sendmail, smtp: "smtp://mail:25" }\n`,
    },
    expected: [
      'a.yaml:9:11: error: "mail" of notifier "ops" sets both "sendmail" and "smtp"; use only one',
      'a.yaml:9:35: error: Invalid mail address "ops team" in "mail.to[1]" in notifier "ops": use user@host, "Name <user@host>" or a local name for sendmail (root)',
    ],
  },
  {
    name: 'a local name (memmon -m root) is an address for sendmail',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops:\n    mail: { to: root }\n` },
    expected: [],
  },
  {
    name: 'a local name is refused with SMTP, which needs user@host',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops:\n    mail: { to: [ops@example.com, root], from: monitor, smtp: "smtp://mail:25" }\n` },
    expected: [
      'a.yaml:9:35: error: Mail address "root" of notifier "ops" has no domain: an SMTP server needs user@host (a local name such as root works with sendmail)',
      'a.yaml:9:48: error: "from" of notifier "ops" has no domain: an SMTP server needs user@host',
    ],
  },
  {
    name: 'credentials in an SMTP URL',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops:\n    mail: { to: a@example.com, smtp: "smtp://me:pw@mail:25" }\n` },
    expected: [
      'a.yaml:9:38: error: Invalid SMTP URL "smtp://me:***@mail:25" in "mail.smtp" in notifier "ops": use smtp://host[:port] or smtps://host[:port], with credentials in username and password_env',
    ],
  },
  {
    name: 'credentials in a supervisor URL, never echoed',
    files: { 'a.yaml': 'supervisors:\n  main:\n    url: http://admin:s3cret@127.0.0.1:9001\n' },
    expected: [
      'a.yaml:3:10: error: "url" in supervisor "main" must be unix:///path/to/supervisor.sock or http://host:port, not "http://admin:***@127.0.0.1:9001"; give credentials as username and password_env or password_file',
    ],
  },
  {
    name: 'exec must be an argv list',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops:\n    exec: /usr/local/bin/page --json\n` },
    expected: ['a.yaml:9:11: error: "exec" in notifier "ops" must be a list: the program and its arguments, e.g. [/usr/local/bin/page-oncall, --json], not "/usr/local/bin/page --json"'],
  },
  {
    name: 'env: is for exec notifiers only, and takes variable names with a string or { from_env }',
    files: {
      'a.yaml': `${MEMORY}    notify: [{ to: ops }, { to: pager }]\nnotifiers:\n  ops:\n    mail: { to: ops@example.com }\n    env: { A: b }\n  pager:\n    exec: [/bin/true]\n    env: { "bad-name": x, N: 3, OK: { from_env: PAGER_TOKEN } }\n`,
    },
    expected: [
      'a.yaml:10:5: error: Notifier "ops" sets "env", which only "exec" takes; remove it',
      'a.yaml:13:12: error: Invalid variable name "bad-name" in "env" of notifier "pager": use letters, digits and "_", not starting with a digit',
      'a.yaml:13:30: error: "env.N" in notifier "pager" must be a string, or { from_env: VARIABLE }, not 3',
    ],
  },
  {
    name: 'unknown notifier, with the nearest',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: opz }]\n${OPS}` },
    expected: [
      'a.yaml:6:20: error: Unknown notifier "opz" in notify of policy "web-memory"; did you mean "ops"? (defined notifiers: ops)',
      'a.yaml:8:3: warning: Notifier "ops" is not used by any policy',
    ],
  },
  {
    name: 'unknown notifier when none is defined',
    files: { 'a.yaml': `${MEMORY}    notify: [{ to: ops }]\n` },
    expected: ['a.yaml:6:20: error: Unknown notifier "ops" in notify of policy "web-memory" (no notifiers are defined)'],
  },
  {
    name: 'unknown supervisor, also inside exclude',
    files: {
      'a.yaml':
        'supervisors:\n  main: { url: "unix:///run/supervisor.sock" }\npolicies:\n  - name: a\n    kind: runtime\n    match: { supervisor: mian, exclude: { supervisor: [main, batch] } }\n    max_runtime: 6h\n',
    },
    expected: [
      'a.yaml:6:26: error: Unknown supervisor "mian" in match of policy "a"; did you mean "main"? (configured supervisors: main)',
      'a.yaml:6:62: error: Unknown supervisor "batch" in match of policy "a" (configured supervisors: main)',
    ],
  },
  {
    name: 'duplicate policy names across files, reported at both places',
    files: {
      'a.yaml': MEMORY,
      'b.yaml': MEMORY,
    },
    expected: ['a.yaml:2:11: error: Duplicate policy name "web-memory": defined again at b.yaml:2:11', 'b.yaml:2:11: error: Duplicate policy name "web-memory": first defined at a.yaml:2:11'],
  },
  {
    name: 'duplicate notifier and supervisor names across files',
    files: {
      'a.yaml': `${MEMORY}    notify: [{ to: ops }]\n${OPS}supervisors:\n  main: { url: "unix:///a.sock" }\n`,
      'b.yaml': `${OPS}supervisors:\n  main: { url: "unix:///b.sock" }\n`,
    },
    expected: [
      'a.yaml:8:3: error: Duplicate notifier name "ops": defined again at b.yaml:2:3',
      'a.yaml:11:3: error: Duplicate supervisor name "main": defined again at b.yaml:5:3',
      'b.yaml:2:3: error: Duplicate notifier name "ops": first defined at a.yaml:8:3',
      'b.yaml:5:3: error: Duplicate supervisor name "main": first defined at a.yaml:11:3',
    ],
  },
  {
    name: 'a setting set in two files',
    files: { 'a.yaml': 'settings:\n  name: web\n', 'b.yaml': 'settings:\n  interval: 30s\n  name: batch\n' },
    expected: [
      'a.yaml:2:3: error: settings.name is set again at b.yaml:3:3; set each setting in one file only',
      'b.yaml:3:3: error: settings.name is already set at a.yaml:2:3; set each setting in one file only',
    ],
  },
  {
    name: 'duplicate key inside one file',
    files: { 'a.yaml': 'settings:\n  name: a\n  name: b\n' },
    expected: ['a.yaml:3:3: error: YAML: this key appears twice in the same mapping'],
  },
  {
    name: 'YAML syntax error',
    files: { 'a.yaml': 'policies:\n  - name: a\n    kind: [oom\n' },
    expected: ['a.yaml:4:1: error: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    name: 'two YAML documents in one file',
    files: { 'a.yaml': 'settings: { name: a }\n---\nsettings: { name: b }\n' },
    expected: ['a.yaml:2:1: error: YAML: a policy file holds one YAML document; a second one starts here'],
  },
  {
    name: 'a list at the top level',
    files: { 'a.yaml': '- name: a\n' },
    expected: ['a.yaml:1:1: error: A policy file must be a mapping of settings, supervisors, notifiers and policies, not a list'],
  },
  {
    name: 'a template that does not parse, and a field outside the allow-list',
    files: {
      'a.yaml': `${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops:\n    mail:\n      to: ops@example.com\n      subject: "{{host}}: {{#if target.pid}}restarted"\n      body: "{{target.pidd}} on {{host}}"\n`,
    },
    expected: [
      'a.yaml:11:16: error: subject of notifier "ops": template does not parse: the template ends inside an unclosed {{#…}} block or {{…}} tag',
      'a.yaml:12:13: warning: body of notifier "ops": unknown field "target.pidd"; fields: host, name, policy, kind, mode, action, status, reason, target.pid, target.name, target.namespec, target.cmdline, target.user, target.supervisor, rss, limit, measure.value, measure.limit, measure.unit, result, uptime, time',
    ],
  },
  {
    name: 'an unused notifier is a warning',
    files: { 'a.yaml': OPS },
    expected: ['a.yaml:2:3: warning: Notifier "ops" is not used by any policy'],
  },
  {
    name: 'grace without action kill is a warning',
    files: { 'a.yaml': `${MEMORY}    grace: 5s\n` },
    expected: ['a.yaml:6:5: warning: "grace" in policy "web-memory" only applies to action kill; this policy\'s action is restart (the default)'],
  },
  {
    name: 'state_dir must be absolute',
    files: { 'a.yaml': 'settings:\n  state_dir: var/lib/procguard\n' },
    expected: ['a.yaml:2:14: error: "state_dir" in settings must be an absolute path, not "var/lib/procguard"'],
  },
  {
    name: 'aliases that expand too far',
    files: {
      'a.yaml': [
        'a: &a [x, x, x, x, x, x, x, x, x, x]',
        'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
        'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
        'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
        '',
      ].join('\n'),
    },
    expected: ['a.yaml:1:1: error: YAML aliases expand too far (more than 100 times); write the values out or use fewer nested aliases'],
  },
  {
    name: 'a zero interval or timeout',
    files: {
      'a.yaml': `settings:\n  interval: 0\nsupervisors:\n  main: { url: "unix:///s.sock", timeout: 0s }\n${MEMORY}    notify: [{ to: ops }]\nnotifiers:\n  ops: { mail: { to: a@example.com }, timeout: 0 }\n`,
    },
    expected: [
      'a.yaml:2:13: error: "interval" in settings must be longer than 0s, or the daemon would tick without pause',
      'a.yaml:4:43: error: "timeout" in supervisor "main" must be longer than 0s, or every request would time out',
      'a.yaml:12:48: error: "timeout" in notifier "ops" must be longer than 0s, or every delivery would time out',
    ],
  },
  {
    name: 'sections of the wrong type',
    files: { 'a.yaml': 'supervisors: []\nnotifiers:\n  ops: null\npolicies: {}\n' },
    expected: [
      'a.yaml:1:14: error: "supervisors" must be a mapping, not a list',
      'a.yaml:3:8: error: Notifier "ops" must be a mapping, not an empty value',
      'a.yaml:4:11: error: "policies" must be a list, not a mapping',
    ],
  },
  {
    name: 'policies that are not mappings',
    files: { 'a.yaml': 'policies:\n  - 1\n  - web-memory\n  -\n' },
    expected: [
      'a.yaml:2:5: error: Policy #1 must be a mapping, not 1',
      'a.yaml:3:5: error: Policy #2 must be a mapping, not "web-memory"',
      'a.yaml:4:4: error: Policy #3 must be a mapping, not an empty value',
    ],
  },
  {
    name: 'notify written as names',
    files: { 'a.yaml': `${MEMORY}    notify: ops\n`, 'b.yaml': `${MEMORY.replace('web-memory', 'web-b')}    notify: [ops]\n${OPS}` },
    expected: [
      'a.yaml:6:13: error: "notify" in policy "web-memory" must be a list, not "ops"; write notify: [{ to: ops }]',
      'b.yaml:6:14: error: "notify[0]" in policy "web-b" must be a mapping, not "ops"; write notify: [{ to: ops }]',
      'b.yaml:8:3: warning: Notifier "ops" is not used by any policy',
    ],
  },
  {
    name: 'an alias without its anchor',
    files: { 'a.yaml': 'policies:\n  - { name: a, kind: oom, match: *sshd, oom_score_adj: 0 }\n' },
    expected: ['a.yaml:2:34: error: YAML: alias *sshd has no anchor &sshd before it'],
  },
  {
    name: 'a merge key that does not merge a mapping',
    files: { 'a.yaml': 'base: &base [1, 2]\npolicies:\n  - { <<: *base, name: a }\n' },
    expected: ['a.yaml:3:7: error: YAML: a merge key (<<) must merge a mapping or an alias of a mapping'],
  },
  {
    name: 'a key that is not a name',
    files: { 'a.yaml': '? [a, b]\n: c\n' },
    expected: ['a.yaml:1:1: error: Unexpected key "[ a, b ]" at the top level. Allowed keys: settings, supervisors, notifiers, policies, inventory'],
  },
];

/** A configured supervisor: without one, a policy matching programs draws its own warning (tested below), which these cases are not about. */
const SUPERVISOR = { 'supervisors.yaml': 'supervisors:\n  main:\n    url: unix:///run/supervisor.sock\n' };

/** The files with SUPERVISOR added, unless they speak of supervisors themselves. */
function withSupervisor(files: Record<string, string>): Record<string, string> {
  return Object.values(files).some((text) => text.includes('supervisor')) ? files : { ...files, ...SUPERVISOR };
}

describe('validate: every problem at its file, line and column', () => {
  for (const testCase of invalid) {
    it(testCase.name, () => {
      assert.deepEqual(diagnosticLines(withSupervisor(testCase.files)), testCase.expected);
    });
  }

  it('reports the problems of every file at once, sorted by file and line', () => {
    const lines = diagnosticLines({
      'b.yaml': MEMORY.replace('200MB', 'lots'),
      'a.yaml': 'settings:\n  interval: soon\n  colour: red\n',
      ...SUPERVISOR,
    });
    assert.deepEqual(
      lines.map((l) => l.split(': error')[0]),
      ['a.yaml:2:13', 'a.yaml:3:3', 'b.yaml:5:14'],
    );
  });

  it('never gives a policy set when there is an error, and gives one with only warnings', () => {
    assert.equal(validateTexts({ 'a.yaml': MEMORY.replace('200MB', 'lots') }).policySet, undefined);
    const warned = validateTexts({ 'a.yaml': `${MEMORY}${OPS}` });
    assert.deepEqual(
      warned.diagnostics.map((d) => [d.severity, d.code]),
      [
        ['warning', 'no-supervisor'],
        ['warning', 'unused'],
      ],
    );
    assert.equal(warned.policySet?.policies.length, 1);
  });
});

describe('validate: policies matching supervisord programs without a supervisor', () => {
  const NO_SUPERVISOR = (where: string, policies: string, verb = 'matches'): string =>
    `${where}: warning: The ${policies} ${verb} supervisord programs but no supervisors are configured: procguard asks the supervisord named by SUPERVISOR_SERVER_URL only when that is set where it runs (e.g. inside supervisord as an event listener, or in cron's environment)`;

  it('one policy matching programs is warned about at its match key, as memmon imports it', () => {
    assert.deepEqual(diagnosticLines({ 'a.yaml': MEMORY }), [NO_SUPERVISOR('a.yaml:4:14', 'policy "web-memory"')]);
  });

  it('several are one warning for the configuration, at the first, counting the others', () => {
    const lines = diagnosticLines({
      'a.yaml': yaml`
        policies:
          - { name: web, kind: memory, match: { program: "web:*" }, max_rss: 200MB }
          - { name: sshd, kind: oom, match: { name: sshd, user: root }, oom_score_adj: -1000 }
      `,
      'b.yaml': yaml`
        policies:
          - { name: batch, kind: runtime, match: { group: batch }, max_runtime: 6h }
          - { name: workers, kind: memory, match: { name: worker, exclude: { program: "critical" } }, max_rss: 1GB }
      `,
    });
    assert.deepEqual(lines, [NO_SUPERVISOR('a.yaml:2:41', 'policy "web" and 2 other policies', 'match')]);
  });

  it('a program only excluded is warned about too: without a supervisor the exclude excludes nothing', () => {
    const lines = diagnosticLines({ 'a.yaml': 'policies:\n  - { name: w, kind: memory, match: { name: worker, exclude: { program: critical } }, max_rss: 1GB }\n' });
    assert.deepEqual(lines, [NO_SUPERVISOR('a.yaml:2:64', 'policy "w"')]);
  });

  it('no warning once a supervisor is configured, in any file', () => {
    assert.deepEqual(diagnosticLines({ 'a.yaml': MEMORY, ...SUPERVISOR }), []);
  });

  it('no warning for policies matching processes only', () => {
    assert.deepEqual(diagnosticLines({ 'a.yaml': 'policies:\n  - { name: w, kind: memory, match: { name: worker, user: www-data }, max_rss: 1GB, action: kill }\n' }), []);
  });

  it('is a warning: the configuration stays valid', () => {
    const result = validateTexts({ 'a.yaml': MEMORY });
    assert.deepEqual(
      result.diagnostics.map((d) => [d.severity, d.code]),
      [['warning', 'no-supervisor']],
    );
    assert.equal(result.policySet?.policies.length, 1);
  });
});
