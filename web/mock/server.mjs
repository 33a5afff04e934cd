// A faithful mock of the parts of Agora's HTTP API that the web app uses: the OpenAI Responses
// and Conversations APIs (shapes from the official `openai` npm package's type definitions),
// GET /v1/models, and Agora's own extensions (conversation listing, /v1/modes, /auth/*), all
// written down in ../API.md. Plain Node, no dependencies. It also serves web/dist with the
// Content-Security-Policy header that `agora serve` sends, so the browser tests exercise the
// built page exactly as it will be served.
//
//   node web/mock/server.mjs [--port 8787] [--auth] [--static web/dist] [--delay 20]
//   import { startMock } from './server.mjs'; const m = await startMock({ port: 0, auth: true });
//
// Scripted replies (so tests can drive "model output"): the reply to a user message containing
//   [[echo]]REST      is REST verbatim (how tests inject hostile Markdown as model output)
//   [[words=N]]       is a reply of about N words
//   [[delay=MS]]      streams one chunk every MS milliseconds (default --delay, 20)
// otherwise a short Markdown answer with a list, a table and a code block.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// The Content-Security-Policy `agora serve` sends with every response (API.md, "Serving the page").
export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'none'",
  "object-src 'none'",
  "frame-src 'none'",
  "worker-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const MODELS = ['agora-tiny', 'agora-small'];
export const MODES = [
  {
    id: 'regular', object: 'mode', name: 'Regular',
    description: 'Clear, helpful and to the point.',
    instructions: 'You are Agora, a helpful assistant. Answer clearly and accurately. Use Markdown where it helps.',
  },
  {
    id: 'fun', object: 'mode', name: 'Fun',
    description: 'Witty and irreverent, still accurate.',
    instructions: 'You are Agora in fun mode: witty, playful and a little irreverent, but every fact you give is accurate. Use Markdown where it helps.',
  },
];
export const TITLE_PURPOSE = 'title';

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.ico': 'image/x-icon', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json', '.map': 'application/json',
};

const now = () => Math.floor(Date.now() / 1000);
const rid = (prefix) => prefix + '_' + crypto.randomBytes(12).toString('hex');

class ApiError extends Error {
  constructor(status, message, code = null, param = null, type) {
    super(message);
    this.status = status; this.code = code; this.param = param;
    this.type = type || (status === 401 ? 'authentication_error' : status === 404 ? 'invalid_request_error' : status >= 500 ? 'server_error' : 'invalid_request_error');
  }
}

function lorem(n) {
  const words = 'the quick brown fox jumps over a lazy dog while streams of tokens flow through batches of attention heads and caches keep every prefix warm'.split(' ');
  const out = [];
  for (let i = 0; i < n; i++) out.push(words[i % words.length]);
  return out.join(' ') + '.';
}

function defaultReply(userText) {
  const topic = userText.replace(/\s+/g, ' ').trim().slice(0, 40);
  return `Here is an answer about *${topic}*.\n\n` +
    `1. First, the **main idea**.\n2. Then a detail with \`inline code\`.\n\n` +
    `| key | value |\n| --- | --- |\n| mode | mock |\n\n` +
    '```js\nfunction greet(name) {\n  // say hello\n  return `hello ${name}`;\n}\n```\n\n' + lorem(12);
}

function chunk(text) {
  // Split into word-sized pieces, keeping all whitespace: the concatenation is the text.
  return text.match(/\s*\S+\s*|\s+/g) || [];
}

function textOfContent(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

// Normalise a Responses `input` (string or list of items) to conversation items with ids.
function normaliseInput(input) {
  if (input == null) return [];
  if (typeof input === 'string') input = [{ type: 'message', role: 'user', content: input }];
  if (!Array.isArray(input)) throw new ApiError(400, "Invalid 'input': expected a string or an array.", 'invalid_type', 'input');
  return input.map((it, i) => normaliseItem(it, `input[${i}]`));
}

function normaliseItem(it, param) {
  if (!it || typeof it !== 'object') throw new ApiError(400, `Invalid '${param}'.`, 'invalid_type', param);
  const type = it.type || 'message';
  if (type !== 'message') throw new ApiError(400, `The mock only supports message items (got '${type}').`, 'invalid_value', param + '.type');
  const role = it.role;
  if (!['user', 'assistant', 'system', 'developer'].includes(role)) throw new ApiError(400, `Invalid '${param}.role'.`, 'invalid_value', param + '.role');
  const partType = role === 'assistant' ? 'output_text' : 'input_text';
  let content;
  if (typeof it.content === 'string') content = [{ type: partType, text: it.content }];
  else if (Array.isArray(it.content)) content = it.content.map((p) => {
    if (typeof p?.text !== 'string') throw new ApiError(400, `Invalid '${param}.content'.`, 'invalid_value', param + '.content');
    return p.type === 'output_text' ? { type: 'output_text', text: p.text, annotations: p.annotations || [] } : { type: p.type || partType, text: p.text };
  });
  else throw new ApiError(400, `Invalid '${param}.content'.`, 'invalid_type', param + '.content');
  return { type: 'message', id: it.id && /^msg_/.test(it.id) ? it.id : rid('msg'), status: it.status || 'completed', role, content };
}

function listPage(all, { limit, after, order }, idOf = (x) => x.id) {
  let lim = limit == null || limit === '' ? 20 : Number(limit);
  if (!Number.isInteger(lim) || lim < 1 || lim > 100) throw new ApiError(400, "Invalid 'limit': must be an integer between 1 and 100.", 'invalid_value', 'limit');
  let arr = order === 'asc' ? all.slice() : all.slice().reverse();
  if (order && order !== 'asc' && order !== 'desc') throw new ApiError(400, "Invalid 'order': 'asc' or 'desc'.", 'invalid_value', 'order');
  if (after) {
    const i = arr.findIndex((x) => idOf(x) === after);
    if (i < 0) throw new ApiError(400, `Invalid 'after': no object with id '${after}'.`, 'invalid_value', 'after');
    arr = arr.slice(i + 1);
  }
  const data = arr.slice(0, lim);
  return { object: 'list', data, first_id: data.length ? idOf(data[0]) : null, last_id: data.length ? idOf(data[data.length - 1]) : null, has_more: arr.length > lim };
}

export async function startMock(opts = {}) {
  const o = {
    port: 0, host: '127.0.0.1', auth: false, delayMs: Number(process.env.MOCK_DELAY_MS || 20),
    staticDir: path.resolve(HERE, '../dist'),
    users: [{ username: 'admin', password: 'correct horse battery staple' }],
    ...opts,
  };
  const state = {
    users: new Map(), sessions: new Map(), keys: new Map(), conversations: new Map(), responses: new Map(),
    requests: [], // [{method, url}] every API request, for tests
  };
  for (const u of o.users) state.users.set(u.username, { id: rid('user'), username: u.username, password: u.password });
  const LOCAL_USER = { id: 'user_local', username: 'local' };

  // ---------- auth ----------
  function cookies(req) {
    const out = {};
    for (const part of (req.headers.cookie || '').split(';')) {
      const i = part.indexOf('=');
      if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    }
    return out;
  }
  // Returns { user, via: 'none'|'cookie'|'key', session } or null when not signed in.
  function identify(req) {
    if (!o.auth) return { user: LOCAL_USER, via: 'none' };
    const authz = req.headers.authorization || '';
    if (authz.startsWith('Bearer ')) {
      const secret = authz.slice(7).trim();
      for (const k of state.keys.values()) if (k.secret === secret) { k.last_used_at = now(); return { user: k.user, via: 'key' }; }
      return null;
    }
    const tok = cookies(req).agora_session;
    const s = tok && state.sessions.get(tok);
    return s ? { user: s.user, via: 'cookie', session: s, token: tok } : null;
  }
  function requireUser(req, mutating) {
    const who = identify(req);
    if (!who) throw new ApiError(401, 'Not signed in: sign in or send an API key (Authorization: Bearer).', 'unauthenticated');
    if (mutating && who.via === 'cookie') {
      if (req.headers['x-csrf-token'] !== who.session.csrf) throw new ApiError(403, 'Missing or wrong X-CSRF-Token header.', 'csrf_failed', null, 'permission_error');
    }
    return who;
  }
  const publicUser = (u) => ({ id: u.id, username: u.username });

  // ---------- responses ----------
  function usageFor(inputItems, outputChunks) {
    const inChars = inputItems.reduce((n, it) => n + textOfContent(it.content).length, 0);
    const input_tokens = Math.max(1, Math.ceil(inChars / 4));
    return { input_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputChunks, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input_tokens + outputChunks };
  }

  function emit(r, type, fields) {
    const ev = { type, sequence_number: r.events.length, ...fields };
    r.events.push(ev);
    for (const sub of r.subscribers) sub(ev);
  }
  const snapshot = (r) => JSON.parse(JSON.stringify(r.obj));
  function finish(r) {
    clearTimeout(r.timer); r.timer = null;
    for (const end of r.enders) end();
    r.subscribers.clear(); r.enders.clear();
  }
  function appendToConversation(r) {
    if (!r.conversation) return;
    const c = state.conversations.get(r.conversation);
    if (!c) return;
    c.items.push(...r.inputItems, ...r.obj.output.map((x) => JSON.parse(JSON.stringify(x))));
  }

  function createResponse(who, body) {
    if (typeof body.model !== 'string' || !body.model) throw new ApiError(400, "Missing required parameter: 'model'.", 'missing_required_parameter', 'model');
    if (!MODELS.includes(body.model)) throw new ApiError(404, `The model '${body.model}' does not exist.`, 'model_not_found', 'model');
    let conversation = null;
    if (body.conversation != null) {
      const cid = typeof body.conversation === 'string' ? body.conversation : body.conversation.id;
      const c = state.conversations.get(cid);
      if (!c || c.owner !== who.user.id) throw new ApiError(404, `Conversation with id '${cid}' not found.`, 'not_found', 'conversation');
      conversation = c.id;
    }
    if (body.previous_response_id && conversation) throw new ApiError(400, "'previous_response_id' and 'conversation' cannot be used together.", 'invalid_value', 'conversation');
    const inputItems = normaliseInput(body.input);
    const context = [...(conversation ? state.conversations.get(conversation).items : []), ...inputItems];
    const lastUser = [...context].reverse().find((x) => x.role === 'user');
    const userText = lastUser ? textOfContent(lastUser.content) : '';
    const meta = body.metadata || null;
    let reply, delay = o.delayMs;
    if (meta && meta.agora_purpose === TITLE_PURPOSE) {
      const firstUser = context.find((x) => x.role === 'user');
      const t = (firstUser ? textOfContent(firstUser.content).replace(/^\s*User:\s*/, '').split('\n')[0] : 'New chat').replace(/\[\[[^\]]*\]\]/g, ' ').replace(/[^\p{L}\p{N} ]+/gu, ' ').trim().split(/\s+/).slice(0, 5).join(' ');
      reply = t || 'New chat';
    } else if (userText.includes('[[echo]]')) {
      reply = userText.slice(userText.indexOf('[[echo]]') + 8).replace(/^\s+/, '');
    } else {
      const w = /\[\[words=(\d+)\]\]/.exec(userText);
      reply = w ? lorem(Number(w[1])) : defaultReply(userText);
    }
    const d = /\[\[delay=(\d+)\]\]/.exec(userText);
    if (d) delay = Number(d[1]);
    const fun = MODES.find((m) => m.id === 'fun');
    if (typeof body.instructions === 'string' && body.instructions === fun.instructions && !(meta && meta.agora_purpose)) reply = '🎉 ' + reply;

    const id = rid('resp');
    const obj = {
      id, object: 'response', created_at: now(), status: body.background ? 'queued' : 'in_progress',
      background: !!body.background, completed_at: null, conversation: conversation ? { id: conversation } : null,
      error: null, incomplete_details: null, instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null, metadata: meta, model: body.model, output: [],
      parallel_tool_calls: body.parallel_tool_calls ?? true, previous_response_id: body.previous_response_id ?? null,
      store: body.store ?? true, temperature: body.temperature ?? 1, text: { format: { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], top_p: body.top_p ?? 1,
      truncation: body.truncation ?? 'disabled', usage: null, user: body.user,
    };
    const r = { obj, owner: who.user.id, conversation, inputItems, events: [], subscribers: new Set(), enders: new Set(), timer: null, chunks: chunk(reply), sent: 0 };
    if (body.max_output_tokens) r.chunks = r.chunks.slice(0, body.max_output_tokens);
    state.responses.set(id, r);

    emit(r, 'response.created', { response: snapshot(r) });
    obj.status = 'in_progress';
    emit(r, 'response.in_progress', { response: snapshot(r) });
    const msg = { id: rid('msg'), type: 'message', status: 'in_progress', content: [], role: 'assistant' };
    obj.output.push(msg);
    emit(r, 'response.output_item.added', { output_index: 0, item: JSON.parse(JSON.stringify(msg)) });
    msg.content.push({ type: 'output_text', annotations: [], logprobs: [], text: '' });
    emit(r, 'response.content_part.added', { item_id: msg.id, output_index: 0, content_index: 0, part: { type: 'output_text', annotations: [], logprobs: [], text: '' } });

    const step = () => {
      if (obj.status !== 'in_progress') return;
      if (r.sent < r.chunks.length) {
        const delta = r.chunks[r.sent++];
        msg.content[0].text += delta;
        emit(r, 'response.output_text.delta', { item_id: msg.id, output_index: 0, content_index: 0, delta, logprobs: [] });
        r.timer = setTimeout(step, delay);
        return;
      }
      const part = msg.content[0];
      emit(r, 'response.output_text.done', { item_id: msg.id, output_index: 0, content_index: 0, text: part.text, logprobs: [] });
      emit(r, 'response.content_part.done', { item_id: msg.id, output_index: 0, content_index: 0, part: JSON.parse(JSON.stringify(part)) });
      msg.status = 'completed';
      emit(r, 'response.output_item.done', { output_index: 0, item: JSON.parse(JSON.stringify(msg)) });
      obj.status = 'completed'; obj.completed_at = now(); obj.usage = usageFor(context, r.sent);
      if (obj.store !== false) appendToConversation(r);
      emit(r, 'response.completed', { response: snapshot(r) });
      finish(r);
    };
    r.timer = setTimeout(step, delay);
    return r;
  }

  function cancelResponse(r) {
    if (r.obj.status === 'in_progress' || r.obj.status === 'queued') {
      clearTimeout(r.timer); r.timer = null;
      r.obj.status = 'cancelled';
      r.obj.usage = usageFor(r.inputItems, r.sent);
      for (const m of r.obj.output) m.status = 'incomplete';
      // A stopped exchange stays in the conversation (input + the partial reply, status incomplete).
      if (r.obj.store !== false) appendToConversation(r);
      finish(r); // open streams end without a terminal event; clients re-read the response
    }
  }

  function streamEvents(req, res, r, startingAfter, cancelOnDrop) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    const write = (ev) => res.write(`event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`);
    for (const ev of r.events) if (ev.sequence_number > startingAfter) write(ev);
    if (!r.timer && r.obj.status !== 'in_progress' && r.obj.status !== 'queued') { res.end(); return; }
    const sub = (ev) => write(ev);
    const end = () => res.end();
    r.subscribers.add(sub); r.enders.add(end);
    res.on('close', () => {
      r.subscribers.delete(sub); r.enders.delete(end);
      if (cancelOnDrop && !res.writableFinished) cancelResponse(r);
    });
  }

  function getResponse(who, id) {
    const r = state.responses.get(id);
    if (!r || r.owner !== who.user.id) throw new ApiError(404, `Response with id '${id}' not found.`, 'not_found');
    return r;
  }
  function getConversation(who, id) {
    const c = state.conversations.get(id);
    if (!c || c.owner !== who.user.id) throw new ApiError(404, `Conversation with id '${id}' not found.`, 'not_found');
    return c;
  }
  const convObj = (c) => ({ id: c.id, object: 'conversation', created_at: c.created_at, metadata: c.metadata });
  function checkMetadata(m) {
    if (m == null) return {};
    if (typeof m !== 'object' || Array.isArray(m)) throw new ApiError(400, "Invalid 'metadata': expected an object.", 'invalid_type', 'metadata');
    const keys = Object.keys(m);
    if (keys.length > 16) throw new ApiError(400, "Invalid 'metadata': at most 16 keys.", 'invalid_value', 'metadata');
    for (const k of keys) {
      if (k.length > 64 || typeof m[k] !== 'string' || m[k].length > 512) throw new ApiError(400, `Invalid 'metadata.${k}': keys up to 64 characters, string values up to 512.`, 'invalid_value', 'metadata');
    }
    return { ...m };
  }

  // ---------- routing ----------
  async function readJson(req) {
    const chunks = []; let n = 0;
    for await (const c of req) { n += c.length; if (n > 1 << 20) throw new ApiError(413, 'Request body too large.', 'request_too_large'); chunks.push(c); }
    if (!n) return {};
    if (!(req.headers['content-type'] || '').startsWith('application/json')) throw new ApiError(400, 'Expected Content-Type: application/json.', 'invalid_content_type');
    try { return JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { throw new ApiError(400, 'We could not parse the JSON body of your request.', 'invalid_json'); }
  }
  function send(res, status, body, headers = {}) {
    const s = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
    res.end(s);
  }

  async function api(req, res, url) {
    const p = url.pathname, m = req.method, q = Object.fromEntries(url.searchParams);
    let mm;
    // --- auth ---
    if (p === '/auth/me' && m === 'GET') {
      const who = identify(req);
      if (!who) throw new ApiError(401, 'Not signed in.', 'unauthenticated');
      return send(res, 200, { object: 'auth.session', auth_required: o.auth, user: publicUser(who.user), csrf_token: who.session ? who.session.csrf : null });
    }
    if (p === '/auth/login' && m === 'POST') {
      if (!o.auth) throw new ApiError(400, 'Authentication is disabled on this server (--no-auth).', 'auth_disabled');
      const b = await readJson(req);
      const u = state.users.get(String(b.username || ''));
      if (!u || u.password !== b.password) throw new ApiError(401, 'Wrong username or password.', 'invalid_credentials');
      const token = crypto.randomBytes(32).toString('base64url');
      const s = { user: u, csrf: crypto.randomBytes(24).toString('base64url'), created_at: now() };
      state.sessions.set(token, s);
      return send(res, 200, { object: 'auth.session', auth_required: true, user: publicUser(u), csrf_token: s.csrf },
        { 'Set-Cookie': `agora_session=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000` });
    }
    if (p === '/auth/logout' && m === 'POST') {
      const who = identify(req);
      if (who && who.via === 'cookie') {
        if (req.headers['x-csrf-token'] !== who.session.csrf) throw new ApiError(403, 'Missing or wrong X-CSRF-Token header.', 'csrf_failed', null, 'permission_error');
        state.sessions.delete(who.token);
      }
      return send(res, 200, { object: 'auth.logout', signed_out: true }, { 'Set-Cookie': 'agora_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0' });
    }
    if (p === '/auth/keys' && m === 'GET') {
      const who = requireUser(req, false);
      const data = [...state.keys.values()].filter((k) => k.user.id === who.user.id).map(keyObj).reverse();
      return send(res, 200, { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
    }
    if (p === '/auth/keys' && m === 'POST') {
      const who = requireUser(req, true);
      if (who.via === 'none') throw new ApiError(400, 'API keys are not used when authentication is disabled (--no-auth).', 'auth_disabled');
      const b = await readJson(req);
      const name = typeof b.name === 'string' ? b.name.trim().slice(0, 100) : '';
      const k = { id: rid('key'), user: who.user, name: name || 'Untitled key', secret: 'sk-agora-' + crypto.randomBytes(24).toString('base64url'), created_at: now(), last_used_at: null };
      state.keys.set(k.id, k);
      return send(res, 200, { ...keyObj(k), value: k.secret });
    }
    if ((mm = /^\/auth\/keys\/([\w-]+)$/.exec(p)) && m === 'DELETE') {
      const who = requireUser(req, true);
      const k = state.keys.get(mm[1]);
      if (!k || k.user.id !== who.user.id) throw new ApiError(404, `API key '${mm[1]}' not found.`, 'not_found');
      state.keys.delete(k.id);
      return send(res, 200, { id: k.id, object: 'api_key.deleted', deleted: true });
    }
    if (!p.startsWith('/v1/')) throw new ApiError(404, `Unknown path ${p}.`, 'not_found');

    const mutating = m !== 'GET' && m !== 'HEAD';
    const who = requireUser(req, mutating);
    // --- models, modes ---
    if (p === '/v1/models' && m === 'GET')
      return send(res, 200, { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'agora' })) });
    if (p === '/v1/modes' && m === 'GET')
      return send(res, 200, { object: 'list', data: MODES });
    // --- conversations ---
    if (p === '/v1/conversations' && m === 'POST') {
      const b = await readJson(req);
      const items = b.items == null ? [] : b.items;
      if (!Array.isArray(items) || items.length > 20) throw new ApiError(400, "Invalid 'items': up to 20 items.", 'invalid_value', 'items');
      const c = { id: rid('conv'), owner: who.user.id, created_at: now(), seq: state.conversations.size, metadata: checkMetadata(b.metadata), items: items.map((it, i) => normaliseItem(it, `items[${i}]`)) };
      state.conversations.set(c.id, c);
      return send(res, 200, convObj(c));
    }
    if (p === '/v1/conversations' && m === 'GET') {
      // Agora extension: list the caller's conversations, newest first (by created_at).
      let all = [...state.conversations.values()].filter((c) => c.owner === who.user.id);
      if (q.q) { const needle = q.q.toLowerCase(); all = all.filter((c) => String(c.metadata.title || '').toLowerCase().includes(needle)); }
      all.sort((a, b) => a.created_at - b.created_at || a.seq - b.seq);
      return send(res, 200, listPage(all.map(convObj), { limit: q.limit, after: q.after, order: q.order || 'desc' }));
    }
    if ((mm = /^\/v1\/conversations\/([\w-]+)$/.exec(p))) {
      const c = getConversation(who, mm[1]);
      if (m === 'GET') return send(res, 200, convObj(c));
      if (m === 'POST') {
        const b = await readJson(req);
        if (!('metadata' in b)) throw new ApiError(400, "Missing required parameter: 'metadata'.", 'missing_required_parameter', 'metadata');
        c.metadata = checkMetadata(b.metadata);
        return send(res, 200, convObj(c));
      }
      if (m === 'DELETE') {
        state.conversations.delete(c.id);
        return send(res, 200, { id: c.id, object: 'conversation.deleted', deleted: true });
      }
    }
    if ((mm = /^\/v1\/conversations\/([\w-]+)\/items$/.exec(p))) {
      const c = getConversation(who, mm[1]);
      if (m === 'GET') return send(res, 200, listPage(c.items, { limit: q.limit, after: q.after, order: q.order || 'desc' }));
      if (m === 'POST') {
        const b = await readJson(req);
        if (!Array.isArray(b.items) || b.items.length < 1 || b.items.length > 20) throw new ApiError(400, "Invalid 'items': 1 to 20 items.", 'invalid_value', 'items');
        const items = b.items.map((it, i) => normaliseItem(it, `items[${i}]`));
        c.items.push(...items);
        return send(res, 200, { object: 'list', data: items, first_id: items[0].id, last_id: items.at(-1).id, has_more: false });
      }
    }
    if ((mm = /^\/v1\/conversations\/([\w-]+)\/items\/([\w-]+)$/.exec(p))) {
      const c = getConversation(who, mm[1]);
      const i = c.items.findIndex((x) => x.id === mm[2]);
      if (i < 0) throw new ApiError(404, `Item with id '${mm[2]}' not found.`, 'not_found');
      if (m === 'GET') return send(res, 200, c.items[i]);
      if (m === 'DELETE') { c.items.splice(i, 1); return send(res, 200, convObj(c)); }
    }
    // --- responses ---
    if (p === '/v1/responses' && m === 'POST') {
      const b = await readJson(req);
      const r = createResponse(who, b);
      if (b.stream) return streamEvents(req, res, r, -1, !b.background);
      if (!b.background) {
        // Wait for the end (foreground, non-streaming).
        await new Promise((resolve) => { if (!r.timer) resolve(); else r.enders.add(resolve); });
      }
      return send(res, 200, snapshot(r));
    }
    if ((mm = /^\/v1\/responses\/([\w-]+)$/.exec(p))) {
      const r = getResponse(who, mm[1]);
      if (m === 'GET') {
        if (q.stream === 'true') {
          const after = q.starting_after == null ? -1 : Number(q.starting_after);
          if (!Number.isInteger(after) || after < -1) throw new ApiError(400, "Invalid 'starting_after'.", 'invalid_value', 'starting_after');
          if (!r.obj.background) throw new ApiError(400, 'Only background responses can be streamed again.', 'invalid_value', 'stream');
          return streamEvents(req, res, r, after, false);
        }
        return send(res, 200, snapshot(r));
      }
      if (m === 'DELETE') { cancelResponse(r); state.responses.delete(r.obj.id); return send(res, 200, { id: r.obj.id, object: 'response.deleted', deleted: true }); }
    }
    if ((mm = /^\/v1\/responses\/([\w-]+)\/cancel$/.exec(p)) && m === 'POST') {
      const r = getResponse(who, mm[1]);
      if (!r.obj.background) throw new ApiError(400, 'Only background responses can be cancelled.', 'invalid_value');
      cancelResponse(r);
      return send(res, 200, snapshot(r));
    }
    if ((mm = /^\/v1\/responses\/([\w-]+)\/input_items$/.exec(p)) && m === 'GET') {
      const r = getResponse(who, mm[1]);
      return send(res, 200, listPage(r.inputItems, { limit: q.limit, after: q.after, order: q.order || 'desc' }));
    }
    throw new ApiError(404, `Unknown path ${m} ${p}.`, 'not_found');
  }
  const keyObj = (k) => ({ id: k.id, object: 'api_key', name: k.name, created_at: k.created_at, last_used_at: k.last_used_at, redacted_value: k.secret.slice(0, 9) + '…' + k.secret.slice(-4) });

  function serveStatic(req, res, url) {
    let rel = decodeURIComponent(url.pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(o.staticDir, '.' + rel);
    const base = { ...SECURITY_HEADERS };
    if (!file.startsWith(path.resolve(o.staticDir) + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { ...base, 'Content-Type': 'text/plain; charset=utf-8' });
      return res.end('not found');
    }
    const immutable = rel.startsWith('/assets/');
    res.writeHead(200, { ...base, 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream', 'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache' });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(file).pipe(res);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const isApi = url.pathname.startsWith('/v1/') || url.pathname.startsWith('/auth/');
    if (isApi) state.requests.push({ method: req.method, path: url.pathname, query: url.search });
    try {
      if (isApi) await api(req, res, url);
      else if (req.method === 'GET' || req.method === 'HEAD') serveStatic(req, res, url);
      else throw new ApiError(405, 'Method not allowed.', 'method_not_allowed');
    } catch (e) {
      if (!(e instanceof ApiError)) { console.error(e); e = new ApiError(500, 'Internal error.', 'internal_error'); }
      if (res.headersSent) return res.end();
      send(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: e.code } });
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve) => server.listen(o.port, o.host, resolve));
  const url = `http://${o.host}:${server.address().port}`;
  return {
    url, state, server,
    close: () => new Promise((resolve) => {
      for (const r of state.responses.values()) { clearTimeout(r.timer); for (const end of r.enders) end(); }
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const val = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  const m = await startMock({
    port: Number(val('--port', 8787)), host: val('--host', '127.0.0.1'), auth: args.includes('--auth'),
    staticDir: path.resolve(val('--static', path.resolve(HERE, '../dist'))), delayMs: Number(val('--delay', process.env.MOCK_DELAY_MS || 20)),
  });
  console.log(`agora mock API on ${m.url} (auth ${args.includes('--auth') ? 'on: admin / correct horse battery staple' : 'off'})`);
}
