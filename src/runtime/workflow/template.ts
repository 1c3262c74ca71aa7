/**
 * Step input templates and predicates. `{{input}}`, `{{message}}`, `{{steps.<name>}}`, `{{state.<key>}}`
 * and bare `{{<key>}}` (a `session_state` key, as iii's `vars`) are filled in; values that are not
 * strings are written as JSON; unknown names are left as they are (iii behaviour).
 * @module
 */

/** What a template and a predicate can see. */
export interface TemplateScope {
  input: unknown;
  message: string;
  state: Record<string, unknown>;
  steps: Record<string, unknown>;
}

/** The text form of a step value: strings as they are, anything else as JSON. */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  return JSON.stringify(value);
}

function lookup(scope: TemplateScope, path: string): { found: boolean; value?: unknown } {
  if (path === 'input') return { found: true, value: scope.input };
  if (path === 'message') return { found: true, value: scope.message };
  const [head, ...rest] = path.split('.');
  let value: unknown;
  if (head === 'steps' && rest.length > 0) value = scope.steps;
  else if (head === 'state' && rest.length > 0) value = scope.state;
  else {
    rest.unshift(head ?? '');
    value = scope.state;
  }
  for (const key of rest) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return { found: false };
    value = (value as Record<string, unknown>)[key];
  }
  return { found: true, value };
}

/** Renders `template` against `scope`. */
export function renderTemplate(template: string, scope: TemplateScope): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (whole, path: string) => {
    const { found, value } = lookup(scope, path);
    return found ? asText(value) : whole;
  });
}
