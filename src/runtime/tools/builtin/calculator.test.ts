import { describe, expect, it } from 'vitest';
import { isAgentOsError } from '../../../errors/index.js';
import type { ToolExecutionContext } from '../types.js';
import { createCalculatorTool, evaluateExpression } from './calculator.js';

const context: ToolExecutionContext = {
  abortSignal: new AbortController().signal,
  toolCallId: 'call_1',
  runId: 'run',
  sessionId: 'session',
  userId: null,
};

describe('evaluateExpression', () => {
  it.each([
    ['2 + 3 * 4', 14],
    ['(2 + 3) * 4', 20],
    ['10 - 4 - 3', 3],
    ['100 / 10 / 5', 2],
    ['7 % 4', 3],
    ['2 ^ 3 ^ 2', 512],
    ['2 ** 10', 1024],
    ['-2 ^ 2', -4],
    ['2 ^ -1', 0.5],
    ['--3', 3],
    ['-(4 - 6)', 2],
    ['1.5e3 + .5', 1500.5],
    ['0.1 + 0.2', 0.3],
    ['6 × 7 ÷ 2', 21],
  ])('%s = %d', (expression, expected) => {
    expect(evaluateExpression(expression)).toBe(expected);
  });

  it.each([
    ['sqrt(16) + abs(-3)', 7],
    ['round(2.5) + floor(2.7) + ceil(2.1)', 8],
    ['min(4, 2, 8) + max(1, 9)', 11],
    ['log(1000)', 3],
    ['log(8, 2)', 3],
    ['ln(e)', 1],
    ['round(sin(pi / 2) + cos(0) + tan(0))', 2],
    ['2 * PI', 6.28318530717959],
  ])('functions and constants: %s = %d', (expression, expected) => {
    expect(evaluateExpression(expression)).toBe(expected);
  });

  it.each([
    ['1 / 0', /Division by zero/],
    ['5 % 0', /Division by zero/],
    ['sqrt(-1)', /not a finite number/],
    ['10 ^ 400', /not a finite number/],
    ['2 +', /Unexpected end of expression/],
    ['(1 + 2', /Expected "\)"/],
    ['1 2', /Unexpected "2"/],
    ['max()', /max\(\) takes at least 1 argument/],
    ['sqrt(1, 2)', /sqrt\(\) takes 1 argument/],
    ['', /empty/],
    ['x + 1', /Unknown name "x"/],
  ])('rejects %j', (expression, message) => {
    expect(() => evaluateExpression(expression)).toThrow(message);
  });

  it.each([
    'constructor',
    'process.exit(1)',
    '__proto__',
    'toString()',
    'require("fs")',
    'this',
    '[].constructor.constructor("return process")()',
    '1; process.exit(1)',
  ])('runs no code for %j', (expression) => {
    let thrown: unknown;
    try {
      evaluateExpression(expression);
    } catch (error) {
      thrown = error;
    }
    expect(isAgentOsError(thrown) && thrown.code).toBe('AOS_TOOL_INVALID_INPUT');
  });

  it('refuses nesting deeper than the parser allows instead of overflowing the stack', () => {
    expect(() => evaluateExpression(`${'('.repeat(200)}1${')'.repeat(200)}`)).toThrow(/nested too deeply/);
  });

  it('refuses expressions over 500 characters', () => {
    expect(() => evaluateExpression('1+'.repeat(300).concat('1'))).toThrow(/longer than 500/);
  });
});

describe('createCalculatorTool', () => {
  it('returns the expression and its result', async () => {
    const calculator = createCalculatorTool();

    await expect(calculator.execute({ expression: '12*7' }, context)).resolves.toEqual({
      expression: '12*7',
      result: 84,
    });
    expect(calculator.name).toBe('calculator');
  });

  it('throws a clear error for division by zero', async () => {
    await expect(createCalculatorTool().execute({ expression: '1/0' }, context)).rejects.toThrow('Division by zero');
  });
});
