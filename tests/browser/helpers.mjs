// Shared setup for the browser tests: Debian's chromium driven by playwright-core (never a
// downloaded browser), a fresh profile per browser, and the server under test — the mock API in
// web/mock (default), or a real `agora serve` when AGORA_BASE_URL is set (AGORA_API_KEY: a key for
// the API calls the tests make themselves; AGORA_AUTH_BASE_URL / AGORA_TEST_USER /
// AGORA_TEST_PASSWORD: a server with auth on, for auth.test.mjs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const DIST = path.join(ROOT, 'web/dist');
export const SHOTS = path.join(HERE, 'screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const REAL = !!process.env.AGORA_BASE_URL;

export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export async function startServer({ auth = false } = {}) {
  if (auth && process.env.AGORA_AUTH_BASE_URL) {
    return { url: process.env.AGORA_AUTH_BASE_URL.replace(/\/$/, ''), real: true, close: async () => {},
      user: process.env.AGORA_TEST_USER || 'admin', password: process.env.AGORA_TEST_PASSWORD || '' };
  }
  if (!auth && REAL) return { url: process.env.AGORA_BASE_URL.replace(/\/$/, ''), real: true, close: async () => {} };
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('web/dist is missing: run `npm ci && npm run build` in web/ (scripts/setup does)');
  const { startMock } = await import(path.join(ROOT, 'web/mock/server.mjs'));
  const m = await startMock({ port: 0, auth, staticDir: DIST, delayMs: 15 });
  return { url: m.url, real: false, close: m.close, mock: m, user: 'admin', password: 'correct horse battery staple' };
}

// One browser (persistent context = a fresh temporary profile) per test file.
export async function launch({ viewport = { width: 1280, height: 800 }, colorScheme = 'light' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-browser-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport, colorScheme,
  });
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return {
    context, page, errors,
    close: async () => { await context.close().catch(() => {}); fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

export function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  return page.screenshot({ path: path.join(SHOTS, name + '.png') });
}

// API calls the tests make themselves (Node fetch; bearer key when testing a real server).
export function api(base, headers = {}) {
  const h = { ...(process.env.AGORA_API_KEY ? { Authorization: `Bearer ${process.env.AGORA_API_KEY}` } : {}), ...headers };
  const req = async (method, p, body) => {
    const res = await fetch(base + p, { method, headers: { ...h, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    let json; try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.status, json, headers: res.headers };
  };
  return { get: (p) => req('GET', p), post: (p, b = {}) => req('POST', p, b), del: (p) => req('DELETE', p) };
}

// A canary HTTP server: counts every request it gets (nothing the page renders may reach it).
export async function canary() {
  const hits = [];
  const server = http.createServer((req, res) => { hits.push(req.url); res.writeHead(200, { 'Content-Type': 'image/png' }); res.end(); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, hits, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const norm = (s) => String(s).replace(/\s+/g, ' ').trim();

export async function waitFor(fn, { timeout = 15000, interval = 50, what = 'condition' } = {}) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await sleep(interval);
  }
}

// The assistant text of a conversation, as stored on the server.
export async function serverAssistantTexts(a, convId) {
  const r = await a.get(`/v1/conversations/${convId}/items?order=asc&limit=100`);
  return r.json.data.filter((i) => i.role === 'assistant').map((i) => i.content.map((p) => p.text || '').join(''));
}
