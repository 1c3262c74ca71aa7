import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCodeInfo } from './codes.js';

const DOCS_PATH = resolve(import.meta.dirname, '../../docs/errors.md');
const docs = readFileSync(DOCS_PATH, 'utf8');

/** One row of the `| Code | HTTP status | Meaning |` table of docs/errors.md. */
interface DocumentedCode {
  code: string;
  status: number;
  meaning: string;
}

// A row: | `AOS_X` | 404 | meaning |
const ROW = /^\|\s*`(AOS_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|(.*)\|\s*$/;

function documentedCodes(markdown: string): DocumentedCode[] {
  return markdown
    .split('\n')
    .map((line) => ROW.exec(line))
    .filter((match) => match !== null)
    .map(([, code = '', status = '', meaning = '']) => ({ code, status: Number(status), meaning: meaning.trim() }));
}

const catalogue: Record<string, ErrorCodeInfo> = ERROR_CODES;
const catalogued = Object.keys(catalogue);
const rows = documentedCodes(docs);

describe('error-code catalogue', () => {
  it('names every code AOS_<ROOM>_<REASON> with a description', () => {
    for (const [code, info] of Object.entries(catalogue)) {
      expect(code, code).toMatch(/^AOS_[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(info.description.trim(), code).not.toBe('');
    }
  });

  it('gives each category its status class: user 4xx, system 5xx, upstream 502', () => {
    for (const [code, { status, category }] of Object.entries(catalogue)) {
      if (category === 'user') expect(status, code).toBeGreaterThanOrEqual(400);
      if (category === 'user') expect(status, code).toBeLessThan(500);
      if (category === 'system') expect(status, code).toBeGreaterThanOrEqual(500);
      if (category === 'upstream') expect(status, code).toBe(502);
    }
  });
});

describe('docs/errors.md', () => {
  it('has a table row for every catalogued code', () => {
    // Guards the parser too: a table the regex no longer reads would otherwise "document" nothing.
    expect(rows.length).toBeGreaterThan(0);
    const documented = new Set(rows.map((row) => row.code));
    const missing = catalogued.filter((code) => !documented.has(code));
    expect(missing, `codes in src/errors/codes.ts missing from docs/errors.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('documents no code that the catalogue lacks, in the table or anywhere in the text', () => {
    const mentioned = new Set([...rows.map((row) => row.code), ...(docs.match(/\bAOS_[A-Z0-9_]+/g) ?? [])]);
    const unknown = [...mentioned].filter((code) => !(code in catalogue));
    expect(unknown, `docs/errors.md names codes that src/errors/codes.ts lacks: ${unknown.join(', ')}`).toEqual([]);
  });

  it('lists each code once', () => {
    const codes = rows.map((row) => row.code);
    const repeated = codes.filter((code, index) => codes.indexOf(code) !== index);
    expect(repeated, `codes listed twice in docs/errors.md: ${repeated.join(', ')}`).toEqual([]);
  });

  it('gives each code the status of the catalogue and a meaning', () => {
    for (const row of rows) {
      const info = catalogue[row.code];
      if (info === undefined) continue; // reported by the test above
      expect(row.status, `${row.code}: docs/errors.md says ${row.status}, the catalogue ${info.status}`).toBe(
        info.status,
      );
      expect(row.meaning, `${row.code} has no meaning in docs/errors.md`).not.toBe('');
    }
  });
});
