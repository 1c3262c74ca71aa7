/**
 * Readers turn the bytes of one piece of content into plain text for chunking: txt, md, html, json,
 * csv and pdf (text layer via `unpdf`, a maintained build of Mozilla's pdf.js that needs no network
 * or native code). A reader throws `AOS_KNOWLEDGE_UNREADABLE` with a message a user can act on.
 * @module
 */
import { extname } from 'node:path';
import { AgentOsError } from '../errors/index.js';

/** The readers, by the `type` a content row records. */
export const READER_TYPES = ['txt', 'md', 'html', 'json', 'csv', 'pdf'] as const;

/** One reader type. */
export type ReaderType = (typeof READER_TYPES)[number];

const EXTENSIONS: Record<string, ReaderType> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.log': 'txt',
  '.md': 'md',
  '.markdown': 'md',
  '.mdx': 'md',
  '.html': 'html',
  '.htm': 'html',
  '.json': 'json',
  '.csv': 'csv',
  '.pdf': 'pdf',
};

const MIME_TYPES: Record<string, ReaderType> = {
  'text/plain': 'txt',
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/json': 'json',
  'text/csv': 'csv',
  'application/pdf': 'pdf',
};

/** True when a file name has an extension some reader takes (directory ingestion skips the rest). */
export function isReadableFile(filename: string): boolean {
  return EXTENSIONS[extname(filename).toLowerCase()] !== undefined;
}

/**
 * Picks the reader: the file extension first, then the MIME type, then a sniff of the bytes
 * (`%PDF-`, a leading `<`, `{` or `[`), else plain text.
 */
export function detectReaderType(options: {
  filename?: string | undefined;
  mimetype?: string | undefined;
  data?: Uint8Array;
}): ReaderType {
  const byExtension = options.filename ? EXTENSIONS[extname(options.filename).toLowerCase()] : undefined;
  if (byExtension) return byExtension;
  const mime = options.mimetype?.split(';')[0]?.trim().toLowerCase();
  const byMime = mime ? MIME_TYPES[mime] : undefined;
  if (byMime) return byMime;
  const head = options.data ? Buffer.from(options.data.subarray(0, 64)).toString('latin1').trimStart() : '';
  if (head.startsWith('%PDF-')) return 'pdf';
  if (/^<(!doctype html|html|head|body)/i.test(head)) return 'html';
  if (head.startsWith('{') || head.startsWith('[')) return 'json';
  return 'txt';
}

function unreadable(type: ReaderType, reason: string, cause?: unknown): AgentOsError {
  return new AgentOsError('AOS_KNOWLEDGE_UNREADABLE', `Cannot read this ${type} content: ${reason}`, {
    ...(cause === undefined ? {} : { cause }),
  });
}

function utf8(data: Uint8Array): string {
  return new TextDecoder('utf-8').decode(data);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Text of an HTML page: scripts, styles and tags dropped, block elements as line breaks, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(script|style|noscript|template|svg|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<\/?(p|div|br|li|ul|ol|h[1-6]|tr|table|section|article|header|footer|pre|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(#x?[0-9a-f]+|[a-z]+);/gi, (entity, name: string) => {
      if (name.startsWith('#')) {
        const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[name.toLowerCase()] ?? entity;
    })
    .replace(/[ \t\f\v\r]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n\n')
    .trim();
}

/** Parses CSV (RFC 4180: quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[index + 1] === '\n') index += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += char;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((cells) => cells.some((cell) => cell.trim() !== ''));
}

// Each row becomes "column: value" lines, so a chunk of rows still says what each value means.
function csvToText(text: string): string {
  const [header, ...rows] = parseCsv(text);
  if (!header) return '';
  if (rows.length === 0) return header.join(', ');
  return rows
    .map((cells) => cells.map((cell, index) => `${header[index] ?? `column ${index + 1}`}: ${cell}`).join('\n'))
    .join('\n\n');
}

// Leaves become "path: value" lines: keys carry the meaning a bare value lacks.
function jsonToText(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => jsonToText(item, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => jsonToText(item, path ? `${path}.${key}` : key));
  }
  return [path ? `${path}: ${String(value)}` : String(value)];
}

async function pdfToText(data: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let document: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given; a copy keeps the caller's bytes intact.
    document = await getDocumentProxy(new Uint8Array(data), { verbosity: 0, isEvalSupported: false });
  } catch (error) {
    throw unreadable('pdf', (error as Error).message || 'not a PDF', error);
  }
  try {
    const { text } = await extractText(document, { mergePages: true });
    return text;
  } catch (error) {
    throw unreadable('pdf', (error as Error).message || 'text extraction failed', error);
  } finally {
    await document.destroy();
  }
}

/** Reads content of a type into plain text; throws `AOS_KNOWLEDGE_UNREADABLE` when it cannot. */
export async function readContent(type: ReaderType, data: Uint8Array): Promise<string> {
  switch (type) {
    case 'pdf':
      return pdfToText(data);
    case 'html':
      return htmlToText(utf8(data));
    case 'json': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(utf8(data));
      } catch (error) {
        throw unreadable('json', (error as Error).message, error);
      }
      return jsonToText(parsed).join('\n');
    }
    case 'csv':
      try {
        return csvToText(utf8(data));
      } catch (error) {
        throw unreadable('csv', (error as Error).message, error);
      }
    default:
      return utf8(data).replace(/^\uFEFF/, '');
  }
}
