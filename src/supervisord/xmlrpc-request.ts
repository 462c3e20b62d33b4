// XML-RPC method calls as procguard sends them to supervisord: a method name and parameters
// that are strings, booleans or integers (namespecs, signal names, `wait`), written directly.
// Text is escaped as XML 1.0 requires, a carriage return as a reference so that no parser folds
// it into a newline; a character XML cannot carry at all is refused with a message that names it.
// Checked against the `xmlrpc` package: its deserializer reads every call written here back to
// the same method and parameters (test/supervisord/xmlrpc-request.test.ts).

/** What procguard passes to supervisord's methods. */
export type XmlRpcParam = string | boolean | number;

/** A method name as the XML-RPC specification allows it. */
const METHOD_NAME = /^[A-Za-z0-9_.:/]+$/;
/** Characters XML 1.0 has no way to write, not even as a character reference. */
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };

/** The body of a POST to /RPC2 that calls `method` with `params`; throws a TypeError for what XML-RPC cannot carry. */
export function encodeMethodCall(method: string, params: readonly XmlRpcParam[] = []): string {
  if (!METHOD_NAME.test(method)) throw new TypeError(`not an XML-RPC method name: ${JSON.stringify(method)}`);
  const encoded = params.map((param) => `<param><value>${encodeParam(param)}</value></param>`);
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName>${encoded.length === 0 ? '<params/>' : `<params>${encoded.join('')}</params>`}</methodCall>`;
}

function encodeParam(param: XmlRpcParam): string {
  if (typeof param === 'boolean') return `<boolean>${param ? 1 : 0}</boolean>`;
  if (typeof param === 'number') {
    if (!Number.isInteger(param) || param < -(2 ** 31) || param > 2 ** 31 - 1) throw new TypeError(`not an XML-RPC int (32 bits): ${param}`);
    return `<int>${param}</int>`;
  }
  const bad = NOT_XML.exec(param);
  if (bad) throw new TypeError(`XML-RPC cannot carry the character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} in ${JSON.stringify(param)}`);
  return param === '' ? '<string/>' : `<string>${param.replace(/[&<>\r]/g, (c) => ESCAPES[c]!)}</string>`;
}
