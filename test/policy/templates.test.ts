import assert from 'node:assert/strict';
import { checkTemplate, TEMPLATE_FIELDS } from '../../src/policy/templates.js';
import { loadHandlebars } from '../../src/shared/handlebars.js';

describe('notification templates', () => {
  // As loading a policy set does before anything checks or renders a template.
  before(() => loadHandlebars());

  const cases: Array<[string, string, string[]]> = [
    ['plain text', 'procguard restarted a process', []],
    [
      'every documented field',
      Object.keys(TEMPLATE_FIELDS)
        .map((f) => `{{${f}}}`)
        .join(' '),
      [],
    ],
    ['the target object itself', '{{#with target}}{{namespec}} {{anything}}{{/with}}', []],
    ['if/unless/else with fields', '{{#if target.cmdline}}{{target.cmdline}}{{else}}{{target.name}}{{/if}}{{#unless name}}-{{/unless}}', []],
    ['@root inside each', '{{#each target}}{{@key}} {{@root.host}}{{/each}}', []],
    ['comments', '{{! a comment }}{{!-- {{nothing}} --}}', []],
    ['unknown field', '{{hostname}}', ['warning 1:3 unknown field "hostname"; fields: ' + Object.keys(TEMPLATE_FIELDS).join(', ')]],
    ['unknown nested field with a hint', 'x\n  {{target.namespac}}', ['warning 2:5 unknown field "target.namespac"; fields: ' + Object.keys(TEMPLATE_FIELDS).join(', ')]],
    ['a misplaced field gets a hint', '{{pid}}', ['warning 1:3 unknown field "pid" (did you mean "target.pid"?); fields: ' + Object.keys(TEMPLATE_FIELDS).join(', ')]],
    ['a field named after an Object method', '{{constructor}}', ['warning 1:3 unknown field "constructor"; fields: ' + Object.keys(TEMPLATE_FIELDS).join(', ')]],
    ['unknown field inside if', '{{#if oops}}x{{/if}}', ['warning 1:7 unknown field "oops"; fields: ' + Object.keys(TEMPLATE_FIELDS).join(', ')]],
    ['unknown @root field', '{{#each target}}{{@root.nope}}{{/each}}', ['warning 1:19 unknown field "nope"; fields: ' + Object.keys(TEMPLATE_FIELDS).join(', ')]],
    ['unknown helper', '{{upper host}}', ['warning 1:1 unknown helper "upper"; available: if, unless, each, with, lookup, log, eq']],
    ['partials are refused', '{{> footer}}', ['error 1:1 partials ({{> name}}) are not available in procguard templates']],
    ['unclosed block', 'a\n{{#if host}}b', ['error 2:1 template does not parse: the template ends inside an unclosed {{#…}} block or {{…}} tag']],
    ['unclosed tag', '{{host', ['error 1:1 template does not parse: a malformed or unclosed {{…}} tag']],
    ['closing without opening', 'x {{/if}}', ['error 1:1 template does not parse: a closing {{/…}} has no opening {{#…}} block']],
    ['mismatched block', '{{#if host}}x{{/each}}', ['error 1:1 template does not parse: {{#if}} is closed by {{/each}}']],
  ];
  for (const [name, template, expected] of cases) {
    it(name, () => {
      const problems = checkTemplate(template).map((p) => `${p.severity} ${p.line}:${p.column} ${p.message}`);
      assert.deepEqual(problems, expected);
    });
  }
});
