// The XML-RPC response decoder: whatever xmlrpc's own serializer writes decodes to the same
// value (a property over arbitrary values), supervisord's layout and Python's escaping, faults,
// and malformed replies refused with a message that says where.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import serializer from 'xmlrpc/lib/serializer.js';
import Deserializer from 'xmlrpc/lib/deserializer.js';
import { decodeMethodResponse, XmlRpcFormatError } from '../../src/supervisord/xmlrpc-response.js';

/** Values XML-RPC can carry, as xmlrpc serializes them: integers as <int>, other numbers as <double>. */
const xmlrpcValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }).filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/.test(s)),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ minLength: 1 }).filter((k) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udfff]/.test(k) && k.trim() === k),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true },
    ),
  ),
})).value;

const SUPERVISORD_REPLY = `<?xml version='1.0'?>
<methodResponse>
<params>
<param>
<value><array><data>
<value><struct>
<member>
<name>name</name>
<value><string>w1</string></value>
</member>
<member>
<name>description</name>
<value><string>pid 7, uptime 0:00:05 &lt;&amp;&gt; "quoted"</string></value>
</member>
<member>
<name>pid</name>
<value><int>7</int></value>
</member>
<member>
<name>spawnerr</name>
<value><string></string></value>
</member>
</struct></value>
</data></array></value>
</param>
</params>
</methodResponse>
`;

/** Text XML can carry, without carriage returns (which an XML parser may fold into newlines). */
const xmlText = (options: { minLength?: number } = {}) => fc.string({ unit: 'binary', ...options }).filter((s) => !/[\u0000-\u0008\u000b-\u001f\ufffe\uffff]|[\ud800-\udfff]/.test(s));

/** One entry of getAllProcessInfo, with the fields supervisord sends. */
const processInfo = fc
  .record({
    name: xmlText({ minLength: 1 }),
    group: xmlText({ minLength: 1 }),
    description: xmlText(),
    start: fc.nat(),
    stop: fc.nat(),
    now: fc.nat(),
    state: fc.constantFrom(0, 10, 20, 30, 40, 100, 200, 1000),
    statename: fc.constantFrom('STOPPED', 'STARTING', 'RUNNING', 'BACKOFF', 'STOPPING', 'EXITED', 'FATAL', 'UNKNOWN'),
    spawnerr: xmlText(),
    exitstatus: fc.integer({ min: -255, max: 255 }),
    logfile: xmlText(),
    stdout_logfile: xmlText(),
    stderr_logfile: xmlText(),
    pid: fc.nat(),
  })
  .map((info) => ({ ...info }));

/** Python's xmlrpc.client escaping: &, < and >, nothing else. */
const pythonEscape = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A value as supervisord writes it (Python's xmlrpc.client.dumps): one element a line, strings in <string>. */
function pythonValue(value: unknown): string {
  if (typeof value === 'string') return `<value><string>${pythonEscape(value)}</string></value>\n`;
  if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>\n`;
  if (typeof value === 'number') return `<value><int>${value}</int></value>\n`;
  if (Array.isArray(value)) return `<value><array><data>\n${value.map(pythonValue).join('')}</data></array></value>\n`;
  const members = Object.entries(value as Record<string, unknown>).map(([key, member]) => `<member>\n<name>${pythonEscape(key)}</name>\n${pythonValue(member)}</member>\n`);
  return `<value><struct>\n${members.join('')}</struct></value>\n`;
}

function pythonReply(value: unknown): string {
  return `<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n${pythonValue(value)}</param>\n</params>\n</methodResponse>\n`;
}

/** What the xmlrpc package's own (sax) deserializer reads from a reply. */
function xmlrpcDeserialized(xml: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    new Deserializer().deserializeMethodResponse(Readable.from([Buffer.from(xml)]), (error, result) => (error ? reject(error) : resolve(result)));
  });
}

describe('XML-RPC response decoder', () => {
  it("decodes getAllProcessInfo as supervisord writes it to what xmlrpc's deserializer reads", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(processInfo, { maxLength: 8 }), async (infos) => {
        const xml = pythonReply(infos);
        const decoded = decodeMethodResponse(xml);
        assert.deepEqual(decoded, { value: infos });
        assert.deepEqual(decoded, { value: await xmlrpcDeserialized(xml) });
      }),
      { numRuns: 200 },
    );
  });

  it('decodes to the value xmlrpc serialized, for any value', () => {
    fc.assert(
      fc.property(xmlrpcValue, (value) => {
        assert.deepEqual(decodeMethodResponse(serializer.serializeMethodResponse(value)), { value });
      }),
      { numRuns: 300 },
    );
  });

  it("reads supervisord's layout: newlines between elements, Python's escapes, an empty string", () => {
    assert.deepEqual(decodeMethodResponse(SUPERVISORD_REPLY), {
      value: [{ name: 'w1', description: 'pid 7, uptime 0:00:05 <&> "quoted"', pid: 7, spawnerr: '' }],
    });
  });

  it('reads a fault with its code and string', () => {
    assert.deepEqual(decodeMethodResponse(serializer.serializeFault({ faultCode: 70, faultString: 'NOT_RUNNING: web:w1' })), {
      fault: { faultCode: 70, faultString: 'NOT_RUNNING: web:w1' },
    });
  });

  it('reads the other spellings: bare text, i4, i8, nil, base64, dateTime, CDATA, character references', () => {
    const reply = (value: string) => `<methodResponse><params><param><value>${value}</value></param></params></methodResponse>`;
    const cases: [string, unknown][] = [
      [' spaced text ', ' spaced text '],
      ['', ''],
      ['<i4>-3</i4>', -3],
      ['<i8>9007199254740991</i8>', 9007199254740991],
      ['<nil/>', null],
      ['<string/>', ''],
      ['<base64>aGk=</base64>', Buffer.from('hi')],
      ['<dateTime.iso8601>20261121T10:00:00</dateTime.iso8601>', '20261121T10:00:00'],
      ['<string><![CDATA[<raw> & text]]></string>', '<raw> & text'],
      ['<string>&#233;&#x1F600;</string>', 'é😀'],
      ['<struct></struct>', {}],
      ['<array><data></data></array>', []],
    ];
    for (const [xml, value] of cases) assert.deepEqual(decodeMethodResponse(reply(xml)), { value }, xml);
  });

  it('reads members with entities, comments, CDATA, other types or blanks inside <value> as the members beside them', () => {
    const member = (name: string, value: string): string => `<member><name>${name}</name><value>${value}</value></member>`;
    const members = [
      member('a', '<string>plain</string>'),
      member('b&amp;c', '<string>x &lt; y</string>'),
      member('c', '<!-- note --><int>7</int>'),
      member('d', '<i4>8</i4>'),
      member('e', ' <string><![CDATA[<raw>]]></string>'),
      member('f', '<int> 9 </int>'),
      member('g', 'bare'),
    ];
    const xml = `<methodResponse><params><param><value><struct>${members.join('\n')}</struct></value></param></params></methodResponse>`;
    assert.deepEqual(decodeMethodResponse(xml), { value: { a: 'plain', 'b&c': 'x < y', c: 7, d: 8, e: '<raw>', f: 9, g: 'bare' } });
  });

  it('a member called __proto__ is an ordinary key', () => {
    const decoded = decodeMethodResponse(
      '<methodResponse><params><param><value><struct><member><name>__proto__</name><value><int>1</int></value></member></struct></value></param></params></methodResponse>',
    ) as { value: Record<string, unknown> };
    assert.equal(Object.getPrototypeOf(decoded.value), Object.prototype);
    assert.deepEqual(Object.keys(decoded.value), ['__proto__']);
  });

  const BROKEN: [string, string, RegExp][] = [
    ['an HTML page', '<html><body>Not Found</body></html>', /<html> at offset 0 where <methodResponse> was expected/],
    ['an empty body', '', /ends where <methodResponse> was expected/],
    ['a cut-off reply', SUPERVISORD_REPLY.slice(0, 200), /ends where|a stray "<" at offset 199/],
    ['an integer that is not', '<methodResponse><params><param><value><int>12a</int></value></param></params></methodResponse>', /<int> holds "12a", not an integer/],
    ['a boolean that is not', '<methodResponse><params><param><value><boolean>yes</boolean></value></param></params></methodResponse>', /not 0 or 1/],
    ['an unknown type', '<methodResponse><params><param><value><float>1</float></value></param></params></methodResponse>', /<float> at offset \d+ where a value type was expected/],
    ['an unknown entity', '<methodResponse><params><param><value>&nbsp;</value></param></params></methodResponse>', /unknown entity &nbsp;/],
    ['an entity named after an Object method', '<methodResponse><params><param><value>&constructor;</value></param></params></methodResponse>', /unknown entity &constructor;/],
    ['a bare ampersand', '<methodResponse><params><param><value>a & b</value></param></params></methodResponse>', /a bare "&"/],
    ['a stray <', '<methodResponse><params><param><value>a < b</value></param></params></methodResponse>', /a stray "<"/],
    ['trailing elements', '<methodResponse><params><param><value>x</value></param></params></methodResponse><extra/>', /<extra> .* where the end of the reply was expected/],
    ['a fault without a code', '<methodResponse><fault><value><struct></struct></value></fault></methodResponse>', /a fault without an integer faultCode/],
    [
      'a struct member that is not an integer',
      '<methodResponse><params><param><value><struct><member><name>pid</name><value><int>12a</int></value></member></struct></value></param></params></methodResponse>',
      /<int> holds "12a", not an integer/,
    ],
    [
      'a struct member nested too deep',
      `<methodResponse><params><param>${'<value><struct><member><name>a</name>'.repeat(65)}<value><int>1</int></value>${'</member></struct></value>'.repeat(65)}</param></params></methodResponse>`,
      /nested more than 64 deep/,
    ],
    [
      'values nested too deep',
      `<methodResponse><params><param>${'<value><array><data>'.repeat(70)}${'</data></array></value>'.repeat(70)}</param></params></methodResponse>`,
      /nested more than 64 deep/,
    ],
  ];
  for (const [what, xml, message] of BROKEN) {
    it(`refuses ${what}, saying where`, () => {
      assert.throws(
        () => decodeMethodResponse(xml),
        (error: unknown) => error instanceof XmlRpcFormatError && message.test(error.message),
      );
    });
  }
});
