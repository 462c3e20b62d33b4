// A policy matching supervisord programs with no supervisor configured, as `import memmon`
// writes it: `validate` warns once; `check` and `apply` say that no supervisor was asked when
// SUPERVISOR_SERVER_URL is unset (cron's environment), and ask it, matching the program, when
// it is set (inside supervisord). A real supervisord; the warning of validate is not repeated
// on the stderr of the verbs that run the configuration.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../../src/data/types.js';
import { eventually } from '../helpers/processes.js';
import { runProcguard, STACK_TRACE, type CliRun } from '../helpers/run-cli.js';
import { PASSWORD, requireSupervisord, startSupervisord, USERNAME, type Supervisord } from '../helpers/supervisord.js';

// Command lines of this file's own, so no other test's processes are matched.
const PROGRAMS = `
[program:nosup19]
command=sleep 19467
startsecs=1
`;

const NOT_ASKED = 'no supervisor was asked (none is configured and SUPERVISOR_SERVER_URL is not set), so no supervisord program is seen: policies "nosup-memory", "nosup-oom" match no program';

describe('integration: policies matching programs without a configured supervisor', function () {
  this.timeout(90000);
  let sv: Supervisord;
  let work: string;
  let file: string;

  before(async () => {
    requireSupervisord();
    sv = await startSupervisord(PROGRAMS);
    await eventually(async () => ((await sv.client.call('supervisor.getProcessInfo', ['nosup19'])) as { statename: string }).statename === 'RUNNING', 20000, 'nosup19 RUNNING');
  });
  after(async () => {
    await sv?.stop();
  });
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'pg-nosup-'));
    file = join(work, 'policies.yaml');
    await writeFile(
      file,
      `settings:
  state_dir: ${join(work, 'state')}
policies:
  - { name: nosup-memory, kind: memory, mode: audit, match: { program: nosup19 }, max_rss: 1KB }
  - { name: nosup-oom, kind: oom, mode: audit, match: { group: nosup19 }, oom_score_adj: 0 }
  - { name: nosup-by-name, kind: oom, mode: audit, match: { name: sleep, user: root }, oom_score_adj: 0 }
`,
      { mode: 0o600 },
    );
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  const cron = { PATH: process.env.PATH ?? '', TZ: 'UTC' };
  const insideSupervisord = { ...cron, SUPERVISOR_USERNAME: USERNAME, SUPERVISOR_PASSWORD: PASSWORD };
  const procguard = (args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> => runProcguard(args, { env });
  const planOf = (run: CliRun): Plan => {
    assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
    return JSON.parse(run.stdout) as Plan;
  };

  it('validate warns once for the configuration, at the first such policy, and the configuration stays valid', async () => {
    const run = await procguard(['validate', '-c', file], cron);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.split('\n'), [
      `${file}:4:63: warning: The policy "nosup-memory" and 1 other policy match supervisord programs but no supervisors are configured: procguard asks the supervisord named by SUPERVISOR_SERVER_URL only when that is set where it runs (e.g. inside supervisord as an event listener, or in cron's environment)`,
      `${file}: valid: 3 policies (memory 1, oom 2; 3 in audit mode), 0 supervisors, 0 notifiers in 1 file, 1 warning`,
      '',
    ]);
  });

  it('check without SUPERVISOR_SERVER_URL: one warning that no supervisor was asked, naming the policies', async () => {
    const run = await procguard(['check', '--json', '-c', file], cron);
    const plan = planOf(run);
    assert.deepEqual(plan.warnings, [NOT_ASKED]);
    assert.deepEqual(plan.errors, []);
    assert.equal(
      plan.actions.some((a) => a.policy !== 'nosup-by-name'),
      false,
    );
    assert.equal(run.stderr, '', 'the warning of validate is not repeated: the plan says it');

    const text = await procguard(['check', '-c', file], cron);
    assert.match(text.stdout, new RegExp(`^warning: ${NOT_ASKED.replace(/[()]/g, '\\$&')}$`, 'm'));
  });

  it('check with SUPERVISOR_SERVER_URL asks that supervisord: the program is matched and nothing is said about asking', async () => {
    const run = await procguard(['check', '--json', '-c', file], { ...insideSupervisord, SUPERVISOR_SERVER_URL: sv.unixUrl });
    const plan = planOf(run);
    assert.deepEqual(plan.errors, []);
    assert.equal(plan.warnings, undefined);
    assert.deepEqual(
      plan.actions.filter((a) => a.policy === 'nosup-memory').map((a) => [a.target.namespec, a.status]),
      [['nosup19:nosup19', 'skipped']],
    );
    assert.equal(run.stderr, '');
  });

  it('check with a supervisor configured asks it: no warning from validate or the plan', async () => {
    await writeFile(join(work, 'supervisors.yaml'), `supervisors:\n  main: { url: "${sv.unixUrl}", username: ${USERNAME}, password_env: SV_PASSWORD }\n`, { mode: 0o600 });
    const config = ['-c', file, '-c', join(work, 'supervisors.yaml')];
    const validate = await procguard(['validate', ...config], cron);
    assert.doesNotMatch(validate.stdout, /warning/);
    const plan = planOf(await procguard(['check', '--json', ...config], { ...cron, SV_PASSWORD: PASSWORD }));
    assert.equal(plan.warnings, undefined);
    assert.equal(plan.actions.filter((a) => a.policy === 'nosup-memory').length, 1);
  });

  it("apply from cron's environment says it too, once, in its output", async () => {
    const run = await procguard(['apply', '-c', file], cron);
    assert.doesNotMatch(run.stdout + run.stderr, STACK_TRACE);
    const said = (run.stdout + run.stderr).split('\n').filter((line) => line.includes('no supervisor was asked'));
    assert.equal(said.length, 1, run.stdout + run.stderr);
    assert.match(said[0]!, /policies "nosup-memory", "nosup-oom" match no program/);
  });
});
