import { describe, expect, it } from 'vitest';
import { formatNumber, formatTable, median, quantile, ratio } from './table.js';

describe('ratio', () => {
  it('divides the subject by the other system', () => {
    expect(ratio(30, 10)).toBe(3);
  });

  it('is NaN when a value is missing, not finite or the divisor is 0', () => {
    expect(ratio(undefined, 1)).toBeNaN();
    expect(ratio(1, Number.NaN)).toBeNaN();
    expect(ratio(1, 0)).toBeNaN();
  });
});

describe('formatNumber', () => {
  it('groups thousands and keeps the decimals', () => {
    expect(formatNumber(12345.678, 1)).toBe('12 345.7');
    expect(formatNumber(-1234, 0)).toBe('-1 234');
    expect(formatNumber(0.5, 2)).toBe('0.50');
  });

  it('prints n/a for what was not measured', () => {
    expect(formatNumber(Number.NaN, 1)).toBe('n/a');
    expect(formatNumber(undefined, 1)).toBe('n/a');
  });
});

describe('median and quantile', () => {
  it('take the middle (mean of the two middles) and the nearest rank, ignoring NaN in the median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2, Number.NaN])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
  });
});

describe('formatTable', () => {
  it('prints a value column per system and a ratio column per other system', () => {
    const table = formatTable(
      [
        { label: 'runs/s', better: 'higher', digits: 0, values: { a: 2000, b: 1000, c: 500 } },
        { label: 'RSS (MB)', better: 'lower', digits: 1, values: { a: 60, b: 120 } },
      ],
      [
        { key: 'a', label: 'agentos' },
        { key: 'b', label: 'proxy' },
        { key: 'c', label: 'mastra' },
      ],
    );
    expect(table.split('\n')).toEqual([
      '| measurement | agentos | proxy | mastra | agentos ÷ proxy | agentos ÷ mastra |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      '| runs/s ↑ | 2 000 | 1 000 | 500 | 2.00 | 4.00 |',
      '| RSS (MB) ↓ | 60.0 | 120.0 | n/a | 0.50 | n/a |',
    ]);
  });
});
