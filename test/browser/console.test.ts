/**
 * The web console (issue 13) in a real browser: playwright-core drives Debian's chromium against a real
 * server on 127.0.0.1:0 whose agents talk to the scripted fake upstream (or the offline local model).
 * Each page's screenshot lands in test-artifacts/console/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningServer } from '../../src/main.js';
import { type FakeOpenAI, startFakeOpenAI } from '../fake-openai.js';
import { memoryLogger, startTestServer } from '../helpers.js';
import { buildConsole, findChromium, SCREENSHOTS } from './setup.js';

const KEY = 'aos_console_browser_key_0123456789abcdef';
const found = findChromium();
if ('skip' in found) console.warn(`[console browser tests] skipped: ${found.skip}`);

describe.skipIf('skip' in found)('web console in chromium', () => {
  // A browser on a shared 2-core machine: actions can wait seconds for a CPU, so give each test room.
  vi.setConfig({ testTimeout: 60_000 });
  let fake: FakeOpenAI;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const shot = (name: string) => page.screenshot({ path: `${SCREENSHOTS}${name}.png`, fullPage: true });
  const open = async (name: string) => {
    await page.goto(`${server.url}/console/#/${name}`);
    await page.locator(`main[data-page="${name}"]`).waitFor();
  };
  const chooseAgent = async (id: string) => {
    await open('chat');
    await page.selectOption('select[name="kind"]', 'agents');
    await page.locator(`select[name="component"] option[value="${id}"]`).waitFor({ state: 'attached' });
    await page.selectOption('select[name="component"]', id);
  };
  const send = async (message: string) => {
    await page.fill('input[name="message"]', message);
    await page.click('form button[type="submit"]:has-text("Send")');
  };
  const lastReply = () => page.locator('.message.assistant').last();

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await buildConsole();
    fake = await startFakeOpenAI();
    server = await startTestServer({
      env: { AGENTOS_API_KEY: KEY, OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test-key' },
      config: {
        agents: [
          { id: 'chatty', name: 'Chatty', model: 'openai:gpt-4o-mini', tools: ['calculator'] },
          // The offline model calls the calculator for "What is 6*7?"; the call waits for a confirmation.
          {
            id: 'guarded',
            name: 'Guarded',
            model: 'local:default',
            tools: [{ name: 'calculator', requires_confirmation: true }],
          },
          {
            id: 'asker',
            name: 'Asker',
            model: 'local:default',
            tools: [{ name: 'calculator', requires_user_input: true }],
          },
        ],
        teams: [{ id: 'crew', name: 'Crew', model: 'openai:gpt-4o-mini', members: ['chatty'] }],
        workflows: [{ id: 'pipeline', name: 'Pipeline', steps: [{ name: 'draft', agent: 'chatty' }] }],
        knowledge: [{ id: 'docs', name: 'Docs', embedder: 'local:default' }],
      },
    });
    browser = await chromium.launch({ executablePath: (found as { path: string }).path, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // A stuck action fails with the locator it waited for, well inside the test's own timeout.
    page.setDefaultTimeout(15_000);
    // The session delete asks for a confirmation.
    page.on('dialog', (dialog) => dialog.accept());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await fake?.close();
  });

  it('refuses a wrong key, then signs in with the right one', async () => {
    await page.goto(`${server.url}/console`);
    await page.fill('input[name="api_key"]', 'aos_wrong_key');
    await page.click('button:has-text("Sign in")');
    await expect(page.locator('.signin .error').textContent()).resolves.toMatch(/\S/);
    await shot('signin');
    await page.fill('input[name="api_key"]', KEY);
    await page.click('button:has-text("Sign in")');
    await page.locator('main[data-page="chat"]').waitFor();
    // Strings, not functions: they run in the page, and the server's tsconfig has no DOM types.
    expect(await page.evaluate("sessionStorage.getItem('agentos.console.key')")).toBe(KEY);
  });

  it('streams a reply into the chat as it is generated', async () => {
    const chunks = ['Streaming ', 'arrives ', 'word ', 'by ', 'word ', 'here.'];
    fake.script({ chunks, chunkDelayMs: 200 });
    await chooseAgent('chatty');
    await send('Tell me something');
    // A partial reply is on screen before the last chunk was sent.
    await page.waitForFunction(`(() => {
      const text = [...document.querySelectorAll('.message.assistant .text')].at(-1)?.textContent ?? '';
      return text.startsWith('Streaming') && !text.endsWith('here.');
    })()`);
    await expect.poll(() => lastReply().locator('.text').textContent(), { timeout: 10_000 }).toBe(chunks.join(''));
    await expect.poll(() => lastReply().getAttribute('data-status')).toBe('completed');
    await shot('chat');
  });

  it('shows a tool call with its result', async () => {
    fake.script({ toolCalls: [{ name: 'calculator', arguments: { expression: '6*7' } }] }, { text: 'It is 42.' });
    await send('What is 6*7?');
    await expect.poll(() => lastReply().getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
    const tool = lastReply().locator('.tool');
    expect(await tool.textContent()).toContain('calculator');
    expect(await tool.locator('.tool-result').textContent()).toContain('42');
    expect(await lastReply().locator('.text').textContent()).toBe('It is 42.');
    await shot('chat-tool-call');
  });

  it('chats with a team and with a workflow', async () => {
    await open('chat');
    await page.selectOption('select[name="kind"]', 'teams');
    await page.locator('select[name="component"] option[value="crew"]').waitFor({ state: 'attached' });
    fake.script({ text: 'The crew answers.', chunkDelayMs: 20 });
    await send('Hello crew');
    await expect.poll(() => lastReply().getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
    expect(await lastReply().locator('.text').textContent()).toBe('The crew answers.');

    await page.selectOption('select[name="kind"]', 'workflows');
    await page.locator('select[name="component"] option[value="pipeline"]').waitFor({ state: 'attached' });
    fake.script({ text: 'Drafted by the pipeline.' });
    await send('Draft it');
    await expect.poll(() => lastReply().getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
    expect(await lastReply().locator('.text').textContent()).toBe('Drafted by the pipeline.');
    await shot('chat-workflow');
  });

  it('approves a paused run from the chat and the run completes', async () => {
    await chooseAgent('guarded');
    await send('What is 6*7?');
    const approve = lastReply().locator('.paused button:has-text("Approve")');
    await approve.waitFor();
    await shot('chat-paused');
    await approve.click();
    await expect.poll(() => lastReply().getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
    expect(await lastReply().locator('.tool-result').textContent()).toContain('42');
    const runs = await api('GET', '/agents/guarded/runs');
    expect(runs.body.runs.map((run: { status: string }) => run.status)).toEqual(['completed']);
  });

  it('continues a user-input pause with the values typed into its form', async () => {
    await chooseAgent('asker');
    await send('What is 6*7?');
    const field = lastReply().locator('.paused input[name="input-expression"]');
    await field.waitFor();
    expect(await field.inputValue()).toBe('6*7');
    await field.fill('5*5');
    await lastReply().locator('.paused button:has-text("Submit")').click();
    await expect.poll(() => lastReply().getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
    expect(await lastReply().locator('.tool-result').textContent()).toContain('25');
    const runs = await api('GET', '/agents/asker/runs');
    expect(runs.body.runs[0].tools[0].tool_args).toEqual({ expression: '5*5' });
  });

  it('approves a pending approval from the inbox and the run completes', async () => {
    const paused = await api('POST', '/agents/guarded/runs', { message: 'What is 6*7?' });
    expect(paused.body.status).toBe('paused');
    await open('approvals');
    const row = page.locator('table.approvals tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    await shot('approvals');
    await row.locator('button:has-text("Approve")').click();
    await expect.poll(() => row.count()).toBe(0);
    const run = await api('GET', `/agents/guarded/runs/${paused.body.run_id}`);
    expect(run.body.status).toBe('completed');
  });

  it('searches, renames, shows run events of and deletes a session', async () => {
    const sessions = (await api('GET', '/sessions?limit=100')).body.sessions as { session_id: string }[];
    const target = sessions[0]?.session_id as string;
    await open('sessions');
    await expect.poll(() => page.locator('table.sessions tbody tr').count()).toBe(sessions.length);
    await page.fill('input[name="search"]', target.slice(0, 12));
    await expect.poll(() => page.locator('table.sessions tbody tr').count()).toBe(1);
    await page.click(`tr[data-session-id="${target}"]`);
    await page.fill('input[name="session_name"]', 'Renamed from the console');
    await page.click('button:has-text("Rename")');
    await page.fill('input[name="search"]', 'renamed from');
    await expect
      .poll(() => page.locator('table.sessions tbody tr').textContent())
      .toContain('Renamed from the console');
    expect((await api('GET', `/sessions/${target}`)).body.session_name).toBe('Renamed from the console');

    await page.locator('.session-detail button:has-text("Events")').first().click();
    await expect.poll(() => page.locator('.events').first().textContent()).toMatch(/#0 RunStarted[\s\S]*RunCompleted/);
    await shot('sessions');

    await page.click('.session-detail button:has-text("Delete")');
    await expect.poll(() => page.locator(`tr[data-session-id="${target}"]`).count()).toBe(0);
    expect((await api('GET', `/sessions/${target}`)).status).toBe(404);
  });

  it('opens a trace as a tree of spans', async () => {
    await open('traces');
    // The chat run that called the calculator: agent span, two model requests and the tool call.
    const toolRun = page
      .locator('table.traces tbody tr', { hasText: 'Chatty' })
      .filter({ has: page.locator('td:nth-child(3):text-is("4")') });
    await expect.poll(() => toolRun.count()).toBe(1);
    await toolRun.click();
    await page.locator('.tree .span').first().waitFor();
    expect(await page.locator('.tree > ul > li > .span').getAttribute('data-span-type')).toBe('AGENT');
    // The model and tool spans hang one level down, under the run's span.
    const children = page.locator('.tree > ul > li > ul > li > .span');
    expect(await children.count()).toBe(3);
    expect(await page.locator('.tree ul ul .span[data-span-type="TOOL"] .span-name').textContent()).toContain(
      'calculator',
    );
    await shot('traces');
  });

  it('uploads a file to knowledge, waits for completed, and finds it by search', async () => {
    await open('knowledge');
    await page.locator('select[name="knowledge_id"] option[value="docs"]').waitFor({ state: 'attached' });
    await page.setInputFiles('input[name="file"]', {
      name: 'kettle.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('The aurora kettle boils water in ninety seconds.'),
    });
    await page.click('button:has-text("Upload")');
    await expect.poll(() => page.locator('.ingestion').textContent(), { timeout: 15_000 }).toBe('completed');
    await page.fill('input[name="query"]', 'aurora kettle');
    await page.click('button:has-text("Search")');
    await expect.poll(() => page.locator('table.hits').textContent()).toContain('ninety seconds');
    await shot('knowledge');
  });

  it('shows memories, schedules, metrics and config without errors', async () => {
    for (const name of ['memories', 'schedules', 'metrics', 'config']) {
      await open(name);
      await page.waitForLoadState('networkidle');
      expect(await page.locator('main .error').count(), name).toBe(0);
      await shot(name);
    }
    expect(await page.locator('main pre').textContent()).toContain('chatty');
  });

  it('keeps the first load under 300 KB of gzipped JavaScript', async () => {
    const html = await (await fetch(`${server.url}/console/`)).text();
    const scripts = [...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((match) => match[1] as string);
    expect(scripts.length).toBeGreaterThan(0);
    let gzipped = 0;
    for (const src of scripts) {
      const response = await fetch(new URL(src, server.url));
      expect(response.status).toBe(200);
      gzipped += gzipSync(Buffer.from(await response.arrayBuffer())).length;
    }
    console.log(`console first-load JS: ${(gzipped / 1024).toFixed(1)} KB gzipped`);
    expect(gzipped).toBeLessThanOrEqual(300 * 1024);
  });
});

describe.skipIf('skip' in found)('web console in dev mode', () => {
  it('opens without sign-in when no credentials are configured, and start-up prints its address', async () => {
    const logs = memoryLogger('info');
    const server = await startTestServer({ logger: logs.logger });
    const browser = await chromium.launch({ executablePath: (found as { path: string }).path, args: ['--no-sandbox'] });
    try {
      const link = logs.lines().find((line) => typeof line.console === 'string')?.console as string;
      expect(link).toBe(`${server.url}/console`);
      const page = await browser.newPage();
      await page.goto(link);
      await page.locator('main[data-page="chat"]').waitFor();
      expect(await page.locator('.signin').count()).toBe(0);
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
