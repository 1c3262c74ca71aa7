/**
 * Turns zod issues into the one-line `<path>: <message>` strings a {@link ConfigError} carries.
 * @module
 */
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

/** Writes a zod path the way a config reads: `agents[1].model`, `server.port`, `(root)` for the top. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      text += `[${segment}]`;
    } else {
      const key = String(segment);
      if (/^[A-Za-z_$][\w$-]*$/.test(key)) text += text === '' ? key : `.${key}`;
      else text += `[${JSON.stringify(key)}]`;
    }
  }
  return text === '' ? '(root)' : text;
}

/** Flattens zod issues into unique `<path>: <message>` lines, descending into the union branch that came closest. */
export function formatIssues(issues: readonly Issue[], basePath: readonly PropertyKey[] = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = [...basePath, ...issue.path];
    const branch = issue.code === 'invalid_union' ? closestBranch(issue.errors) : undefined;
    if (branch !== undefined) {
      lines.push(...formatIssues(branch, path));
      continue;
    }
    // One issue may carry several lines (one per unknown key); each gets its own path prefix.
    for (const message of issue.message.split('\n')) lines.push(`${formatPath(path)}: ${message}`);
  }
  return [...new Set(lines)];
}

/**
 * The union branch worth reporting: the one that got past the type check. When every branch failed on the type of
 * the value itself, the union's own message ("expected a string or …") says more than any branch.
 */
function closestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const progressed = branches.filter(
    (branch) =>
      !branch.every(
        (issue) => issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value'),
      ),
  );
  if (progressed.length === 0) return undefined;
  return progressed.reduce((best, branch) => (branch.length < best.length ? branch : best));
}

/** A per-parse zod error map with short, path-free messages that do not echo string values (they may be secrets). */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      return `expected ${describeExpected(issue.expected)}, got ${describeValue(issue.input)}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${JSON.stringify(issue.values[0])}`
        : `expected one of ${issue.values.map(showLiteral).join(', ')}`;
    case 'invalid_union':
      return `expected ${unionExpectations(issue.errors)}, got ${describeValue(issue.input)}`;
    case 'too_small':
      return boundMessage('at least', issue.origin, issue.minimum, issue.inclusive);
    case 'too_big':
      return boundMessage('at most', issue.origin, issue.maximum, issue.inclusive);
    default:
      return undefined;
  }
};

function describeExpected(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'array') return 'a list';
  if (expected === 'object' || expected === 'record') return 'an object';
  return `a ${expected}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function showLiteral(value: unknown): string {
  return typeof value === 'string' ? value : String(value);
}

function unionExpectations(branches: readonly (readonly Issue[])[]): string {
  const expected = new Set<string>();
  for (const branch of branches) {
    for (const issue of branch) {
      if (issue.path.length > 0) continue;
      if (issue.code === 'invalid_type') expected.add(describeExpected(issue.expected));
      if (issue.code === 'invalid_value') for (const value of issue.values) expected.add(showLiteral(value));
    }
  }
  const list = [...expected];
  if (list.length === 0) return 'a valid value';
  return list.length === 1 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
}

function boundMessage(
  word: 'at least' | 'at most',
  origin: string,
  bound: number | bigint,
  inclusive: boolean | undefined,
): string {
  const limit =
    inclusive === false ? (word === 'at least' ? `more than ${bound}` : `less than ${bound}`) : `${word} ${bound}`;
  if (origin === 'string')
    return Number(bound) === 1 && word === 'at least' ? 'must not be empty' : `expected ${limit} characters`;
  if (origin === 'array' || origin === 'set') return `expected ${limit} item${Number(bound) === 1 ? '' : 's'}`;
  return `expected ${limit}`;
}
