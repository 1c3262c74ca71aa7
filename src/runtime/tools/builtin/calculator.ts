/**
 * The `calculator` built-in tool: a small recursive-descent evaluator for arithmetic. It never hands
 * the expression to `eval` or `Function`; only numbers, operators and a fixed list of functions and
 * constants are understood, so model-written input cannot run code.
 * @module
 */
import { z } from 'zod';
import { AgentOsError } from '../../../errors/index.js';
import type { ToolDefinition } from '../types.js';

/** Longest expression accepted, so a model cannot make the evaluator chew on megabytes. */
export const MAX_EXPRESSION_LENGTH = 500;

// Deep nesting would otherwise overflow the stack of the recursive parser.
const MAX_DEPTH = 64;

type Token =
  | { kind: 'number'; value: number; position: number }
  | { kind: 'name'; value: string; position: number }
  | { kind: 'operator'; value: '+' | '-' | '*' | '/' | '%' | '^' | '(' | ')' | ','; position: number }
  | { kind: 'end'; position: number };

// Maps, not object literals: a lookup of `constructor` or `__proto__` must find nothing.
const CONSTANTS = new Map<string, number>([
  ['pi', Math.PI],
  ['e', Math.E],
]);

const FUNCTIONS = new Map<string, { arity: [number, number]; apply: (...args: number[]) => number }>([
  ['sqrt', { arity: [1, 1], apply: (x) => Math.sqrt(x) }],
  ['abs', { arity: [1, 1], apply: (x) => Math.abs(x) }],
  ['round', { arity: [1, 1], apply: (x) => Math.round(x) }],
  ['floor', { arity: [1, 1], apply: (x) => Math.floor(x) }],
  ['ceil', { arity: [1, 1], apply: (x) => Math.ceil(x) }],
  ['min', { arity: [1, Number.POSITIVE_INFINITY], apply: (...xs) => Math.min(...xs) }],
  ['max', { arity: [1, Number.POSITIVE_INFINITY], apply: (...xs) => Math.max(...xs) }],
  // log(x) is base 10 as on a pocket calculator; log(x, b) takes an explicit base; ln is natural.
  ['log', { arity: [1, 2], apply: (x, base) => (base === undefined ? Math.log10(x) : Math.log(x) / Math.log(base)) }],
  ['ln', { arity: [1, 1], apply: (x) => Math.log(x) }],
  ['sin', { arity: [1, 1], apply: (x) => Math.sin(x) }],
  ['cos', { arity: [1, 1], apply: (x) => Math.cos(x) }],
  ['tan', { arity: [1, 1], apply: (x) => Math.tan(x) }],
]);

function invalid(message: string): AgentOsError {
  return new AgentOsError('AOS_TOOL_INVALID_INPUT', message);
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
  const name = /^[A-Za-z_][A-Za-z0-9_]*/;
  let index = 0;
  while (index < expression.length) {
    const char = expression[index] as string;
    if (/\s/.test(char)) {
      index += 1;
      continue;
    }
    const rest = expression.slice(index);
    const numberMatch = number.exec(rest);
    if (numberMatch) {
      tokens.push({ kind: 'number', value: Number(numberMatch[0]), position: index });
      index += numberMatch[0].length;
      continue;
    }
    const nameMatch = name.exec(rest);
    if (nameMatch) {
      tokens.push({ kind: 'name', value: nameMatch[0].toLowerCase(), position: index });
      index += nameMatch[0].length;
      continue;
    }
    if (rest.startsWith('**')) {
      tokens.push({ kind: 'operator', value: '^', position: index });
      index += 2;
      continue;
    }
    // × and ÷ are what people paste from documents; treat them as * and /.
    const operator = char === '×' ? '*' : char === '÷' ? '/' : char;
    if ('+-*/%^(),'.includes(operator)) {
      tokens.push({ kind: 'operator', value: operator as '+', position: index });
      index += 1;
      continue;
    }
    throw invalid(`Unexpected character "${char}" at position ${index + 1}`);
  }
  tokens.push({ kind: 'end', position: expression.length });
  return tokens;
}

function describe(token: Token): string {
  return token.kind === 'end' ? 'end of expression' : `"${token.value}" at position ${token.position + 1}`;
}

function checkFinite(value: number, what: string): number {
  if (!Number.isFinite(value)) throw invalid(`${what} is not a finite number`);
  return value;
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): number {
    const value = this.expression();
    const next = this.peek();
    if (next.kind !== 'end') throw invalid(`Unexpected ${describe(next)}`);
    return value;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private isOperator(value: string): boolean {
    const token = this.peek();
    return token.kind === 'operator' && token.value === value;
  }

  private expect(value: string): void {
    if (!this.isOperator(value)) throw invalid(`Expected "${value}" but found ${describe(this.peek())}`);
    this.index += 1;
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > MAX_DEPTH) throw invalid('Expression is nested too deeply');
  }

  // expression := term (('+' | '-') term)*
  private expression(): number {
    this.enter();
    let value = this.term();
    while (this.isOperator('+') || this.isOperator('-')) {
      const operator = (this.tokens[this.index++] as { value: string }).value;
      const right = this.term();
      value = operator === '+' ? value + right : value - right;
    }
    this.depth -= 1;
    return value;
  }

  // term := unary (('*' | '/' | '%') unary)*
  private term(): number {
    let value = this.unary();
    while (this.isOperator('*') || this.isOperator('/') || this.isOperator('%')) {
      const operator = (this.tokens[this.index++] as { value: string }).value;
      const right = this.unary();
      if ((operator === '/' || operator === '%') && right === 0) throw invalid('Division by zero');
      value = operator === '*' ? value * right : operator === '/' ? value / right : value % right;
    }
    return value;
  }

  // unary := ('-' | '+') unary | power — so -2^2 is -(2^2), as in mathematics.
  private unary(): number {
    if (this.isOperator('-') || this.isOperator('+')) {
      const negative = this.isOperator('-');
      this.index += 1;
      this.enter();
      const value = this.unary();
      this.depth -= 1;
      return negative ? -value : value;
    }
    return this.power();
  }

  // power := primary ('^' unary)? — right-associative: 2^3^2 is 2^(3^2).
  private power(): number {
    const base = this.primary();
    if (!this.isOperator('^')) return base;
    this.index += 1;
    this.enter();
    const exponent = this.unary();
    this.depth -= 1;
    return base ** exponent;
  }

  // primary := number | constant | function '(' args ')' | '(' expression ')'
  private primary(): number {
    const token = this.peek();
    if (token.kind === 'number') {
      this.index += 1;
      return token.value;
    }
    if (token.kind === 'operator' && token.value === '(') {
      this.index += 1;
      const value = this.expression();
      this.expect(')');
      return value;
    }
    if (token.kind === 'name') {
      this.index += 1;
      const fn = FUNCTIONS.get(token.value);
      if (fn) return this.call(token.value, fn);
      const constant = CONSTANTS.get(token.value);
      if (constant !== undefined) return constant;
      throw invalid(
        `Unknown name "${token.value}"; known functions: ${[...FUNCTIONS.keys()].join(', ')}; constants: pi, e`,
      );
    }
    throw invalid(`Unexpected ${describe(token)}`);
  }

  private call(name: string, fn: { arity: [number, number]; apply: (...args: number[]) => number }): number {
    this.expect('(');
    const args: number[] = [];
    if (!this.isOperator(')')) {
      args.push(this.expression());
      while (this.isOperator(',')) {
        this.index += 1;
        args.push(this.expression());
      }
    }
    this.expect(')');
    const [least, most] = fn.arity;
    if (args.length < least || args.length > most) {
      const expected =
        least === most ? `${least}` : most === Number.POSITIVE_INFINITY ? `at least ${least}` : `${least} or ${most}`;
      throw invalid(`${name}() takes ${expected} argument(s), got ${args.length}`);
    }
    return checkFinite(fn.apply(...args), `${name}(${args.join(', ')})`);
  }
}

/**
 * Evaluates an arithmetic expression safely (no code execution) and returns a finite number.
 * @throws AgentOsError `AOS_TOOL_INVALID_INPUT` for syntax errors, unknown names, division by zero or a
 * non-finite result.
 * @example evaluateExpression('2 + 3 * 4') // 14
 */
export function evaluateExpression(expression: string): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw invalid(`Expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (expression.trim() === '') throw invalid('Expression is empty');
  const value = new Parser(tokenize(expression)).parse();
  checkFinite(value, 'The result');
  // Round away binary floating-point noise (0.1 + 0.2 → 0.3); 15 significant digits are exact in a double.
  const rounded = Number(value.toPrecision(15));
  return Object.is(rounded, -0) ? 0 : rounded;
}

const calculatorInput = z.object({
  expression: z
    .string()
    .min(1)
    .max(MAX_EXPRESSION_LENGTH)
    .describe('An arithmetic expression, e.g. "(2 + 3) * 4", "2^10", "sqrt(16) + max(1, 2)".'),
});

/** What the calculator tool returns. */
export interface CalculatorResult {
  expression: string;
  result: number;
}

/**
 * Creates the `calculator` built-in tool (`{ expression }` → `{ expression, result }`).
 * @example createCalculatorTool().execute({ expression: '12*7' }, context) // { expression: '12*7', result: 84 }
 */
export function createCalculatorTool(): ToolDefinition {
  return {
    name: 'calculator',
    description:
      'Evaluate an arithmetic expression exactly. Supports + - * / % ^ (power), parentheses, ' +
      'sqrt abs round floor ceil min max log (base 10) ln sin cos tan, and the constants pi and e.',
    inputSchema: calculatorInput,
    async execute(args): Promise<CalculatorResult> {
      const { expression } = calculatorInput.parse(args);
      return { expression, result: evaluateExpression(expression) };
    },
  };
}
