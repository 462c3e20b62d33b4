// Expectations of policy tests match by subset: every key given must hold, anything else in
// the plan is ignored. A mismatch is described key by key for a readable failure.

export function matchesSubset(expected: unknown, actual: unknown): boolean {
  return differences(expected, actual).length === 0;
}

/** Each key path where `actual` differs from `expected`, as "target.namespec: expected "a", got "b"". */
export function differences(expected: unknown, actual: unknown, path = ''): string[] {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${path || 'value'}: expected a list, got ${show(actual)}`];
    if (expected.length === 0 && actual.length > 0) return [`${path || 'value'}: expected an empty list, got ${actual.length} items`];
    return expected.flatMap((item, i) => (actual.some((a) => matchesSubset(item, a)) ? [] : [`${path}[${i}]: ${show(item)} is not in ${show(actual)}`]));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${path || 'value'}: expected a mapping, got ${show(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) => differences(value, (actual as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
  }
  return expected === actual ? [] : [`${path || 'value'}: expected ${show(expected)}, got ${show(actual)}`];
}

export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
