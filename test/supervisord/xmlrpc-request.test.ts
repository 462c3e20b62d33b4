// The XML-RPC calls procguard writes: the `xmlrpc` package's deserializer reads every one back
// to the same method and parameters (a property over arbitrary text, booleans and ints), the
// calls supervisord gets are what xmlrpc's serializer wrote for them, and what XML cannot carry
// is refused with a message that names it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import serializer from 'xmlrpc/lib/serializer.js';
import Deserializer from 'xmlrpc/lib/deserializer.js';
import { encodeMethodCall, type XmlRpcParam } from '../../src/supervisord/xmlrpc-request.js';

/** xmlrpc's reading of a method call. */
function readCall(xml: string): Promise<{ method: string; params: unknown[] }> {
  return new Promise((resolve, reject) => {
    new Deserializer().deserializeMethodCall(Readable.from([xml]), (error, method, params) => (error ? reject(error) : resolve({ method: method!, params: params! })));
  });
}

/** Text XML 1.0 can carry: no control characters but tab, newline and carriage return, no lone surrogates, no U+FFFE or U+FFFF. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const xmlText = fc.string({ unit: 'binary' }).filter((s) => !NOT_XML.test(s));
/** Text with the characters XML gives a meaning to, and the ones a parser rewrites, more often than chance would. */
const markupText = fc.array(fc.oneof(xmlText, fc.constantFrom('&', '<', '>', ']]>', '\r', '\r\n', '"', "'", '&amp;', '<![CDATA[', ' ', '\t')), { maxLength: 8 }).map((parts) => parts.join(''));
const param: fc.Arbitrary<XmlRpcParam> = fc.oneof(xmlText, markupText, fc.boolean(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const methodName = fc.stringMatching(/^[A-Za-z0-9_.:/]{1,40}$/);

describe('XML-RPC requests', () => {
  it("xmlrpc's deserializer reads every call back to the same method and parameters", async () => {
    await fc.assert(
      fc.asyncProperty(methodName, fc.array(param, { maxLength: 6 }), async (method, params) => {
        assert.deepEqual(await readCall(encodeMethodCall(method, params)), { method, params });
      }),
      { numRuns: 500 },
    );
  });

  it("writes what xmlrpc's serializer wrote for text without markup, booleans and ints", () => {
    const plain = fc.string({ unit: 'binary' }).filter((s) => !NOT_XML.test(s) && !/[&<>\r]/.test(s));
    fc.assert(
      fc.property(methodName, fc.array(fc.oneof(plain, fc.boolean(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { maxLength: 6 }), (method, params) => {
        assert.equal(encodeMethodCall(method, params), serializer.serializeMethodCall(method, params));
      }),
      { numRuns: 500 },
    );
  });

  it('the calls procguard makes of supervisord, byte for byte', () => {
    assert.equal(encodeMethodCall('supervisor.getAllProcessInfo'), '<?xml version="1.0"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params/></methodCall>');
    for (const [method, params] of [
      ['supervisor.getAllProcessInfo', []],
      ['supervisor.getProcessInfo', ['web:w0']],
      ['supervisor.stopProcess', ['web:w0', true]],
      ['supervisor.startProcess', ['web:w0', true]],
      ['supervisor.signalProcess', ['web:w0', 'HUP']],
    ] as const) {
      assert.equal(encodeMethodCall(method, params), serializer.serializeMethodCall(method, [...params]));
    }
  });

  it('escapes markup and keeps a carriage return from being read as a newline', async () => {
    const text = 'a<b&c>]]>d\r\ne';
    assert.equal(
      encodeMethodCall('m', [text]),
      '<?xml version="1.0"?><methodCall><methodName>m</methodName><params><param><value><string>a&lt;b&amp;c&gt;]]&gt;d&#13;\ne</string></value></param></params></methodCall>',
    );
    assert.deepEqual(await readCall(encodeMethodCall('m', [text])), { method: 'm', params: [text] });
  });

  it('refuses what XML-RPC cannot carry, naming it', () => {
    assert.throws(() => encodeMethodCall('supervisor.getProcessInfo', ['web\u0001']), { name: 'TypeError', message: 'XML-RPC cannot carry the character U+0001 in "web\\u0001"' });
    assert.throws(() => encodeMethodCall('supervisor.getProcessInfo', ['\ud800x']), /cannot carry the character U\+D800/);
    assert.throws(() => encodeMethodCall('supervisor.getProcessInfo', ['\uffff']), /cannot carry the character U\+FFFF/);
    assert.throws(() => encodeMethodCall('m', [2 ** 31]), { name: 'TypeError', message: 'not an XML-RPC int (32 bits): 2147483648' });
    assert.throws(() => encodeMethodCall('m', [1.5]), /not an XML-RPC int/);
    assert.throws(() => encodeMethodCall('m', [Number.NaN]), /not an XML-RPC int/);
    assert.throws(() => encodeMethodCall('supervisor.get<x>', []), { name: 'TypeError', message: 'not an XML-RPC method name: "supervisor.get<x>"' });
    assert.throws(() => encodeMethodCall('', []), /not an XML-RPC method name/);
  });
});
