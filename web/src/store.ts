// Application state and the conversation logic: conversations (sidebar), messages, several
// background responses streaming at once, resume after reload, stop, regenerate, edit, titles.
//
// Topics emitted (bus.ts): 'app' (auth, route, models, modes), 'sidebar' (list, busy/unread,
// titles), 'conv:<id>' (the message list of one conversation), 'msg:<key>' (one message's text).
import { emit } from './bus';
import {
  call, stream, outputText, textOf, setCsrfToken, ApiError,
  type Conversation, type ListPage, type MessageItem, type Mode, type Model, type Me, type ResponseObj, type StreamEvent, type Usage,
} from './api';

export type MsgStatus = 'done' | 'streaming' | 'stopped' | 'error';
export interface Msg {
  key: string; role: 'user' | 'assistant'; text: string; status: MsgStatus;
  itemId?: string; responseId?: string; error?: string; stats?: Stats;
  truncated?: boolean;  // the reply ended at the length limit (response status "incomplete")
}
export interface Stats { usage?: Usage; ms?: number; ttftMs?: number; model?: string }
export interface Conv {
  id: string; created_at: number; meta: Record<string, string>;
  msgs: Msg[] | null; loading: boolean; busy: boolean; unread: boolean; error?: string;
  abort?: AbortController; running?: Msg;
}

const DRAFT = 'new';
export const state = {
  me: null as Me | null,
  authChecked: false,
  signedOut: false,
  route: { view: 'chat' as 'chat' | 'settings', convId: null as string | null },
  convs: new Map<string, Conv>(),
  order: [] as string[],           // sidebar order (ids), newest first
  hasMore: false,
  search: '',
  searchResults: null as string[] | null,
  models: [] as Model[],
  modes: [] as Mode[],
  draft: { mode: localStorage.getItem('agora.mode') || 'regular', model: localStorage.getItem('agora.model') || '' },
  notice: '' as string,
};

let seq = 0;
const newKey = () => 'm' + (++seq);

// ---------- stats cache (usage and speed per assistant item, kept in localStorage) ----------
const STATS_KEY = 'agora.stats';
function loadStats(): Record<string, Stats> {
  try { return JSON.parse(localStorage.getItem(STATS_KEY) || '{}'); } catch { return {}; }
}
function saveStats(itemId: string, s: Stats) {
  const all = loadStats();
  all[itemId] = s;
  const keys = Object.keys(all);
  for (const k of keys.slice(0, Math.max(0, keys.length - 500))) delete all[k];
  try { localStorage.setItem(STATS_KEY, JSON.stringify(all)); } catch { /* full */ }
}

// ---------- boot, auth ----------
export async function boot() {
  try {
    const me = await call<Me>('GET', '/auth/me');
    state.me = me; setCsrfToken(me.csrf_token); state.signedOut = false;
  } catch (e) {
    state.me = null; state.signedOut = e instanceof ApiError && e.status === 401;
    if (!state.signedOut) state.notice = 'Cannot reach the server: ' + (e as Error).message;
  }
  state.authChecked = true;
  emit('app');
  if (state.me) await loadAll();
}

export function signedOut() {
  // A 401 from any call: drop every piece of user data from memory and show the sign-in page.
  for (const c of state.convs.values()) c.abort?.abort();
  state.me = null; state.signedOut = true; state.convs.clear(); state.order = []; state.searchResults = null;
  setCsrfToken(null);
  emit('app'); emit('sidebar');
}

export async function login(username: string, password: string) {
  const me = await call<Me>('POST', '/auth/login', { username, password });
  state.me = me; setCsrfToken(me.csrf_token); state.signedOut = false;
  emit('app');
  await loadAll();
}

export async function logout() {
  try { await call('POST', '/auth/logout', {}); } finally { signedOut(); }
}

async function loadAll() {
  const [models, modes] = await Promise.all([
    call<ListPage<Model>>('GET', '/v1/models').catch(() => ({ data: [] as Model[] })),
    call<ListPage<Mode>>('GET', '/v1/modes').catch(() => ({ data: [] as Mode[] })),
  ]);
  state.models = models.data; state.modes = modes.data.length ? modes.data : [{ id: 'regular', name: 'Regular', instructions: '' }];
  if (!state.models.some((m) => m.id === state.draft.model)) state.draft.model = state.models[0]?.id || '';
  if (!state.modes.some((m) => m.id === state.draft.mode)) state.draft.mode = state.modes[0].id;
  emit('app');
  await loadConversations(false);
  applyRoute();
  // Pick up responses that were still running when the page was closed or reloaded.
  for (const c of state.convs.values()) if (c.meta.active_response) void resume(c, c.meta.active_response);
}

// ---------- conversations list ----------
function upsert(c: Conversation): Conv {
  let v = state.convs.get(c.id);
  if (!v) {
    v = { id: c.id, created_at: c.created_at, meta: { ...(c.metadata || {}) }, msgs: null, loading: false, busy: false, unread: false };
    state.convs.set(c.id, v);
  } else if (!v.busy) v.meta = { ...(c.metadata || {}) };
  return v;
}

export async function loadConversations(more: boolean) {
  const after = more && state.order.length ? `&after=${encodeURIComponent(state.order[state.order.length - 1])}` : '';
  const page = await call<ListPage<Conversation>>('GET', `/v1/conversations?limit=50&order=desc${after}`);
  const ids = page.data.map((c) => upsert(c).id);
  state.order = more ? [...state.order, ...ids.filter((id) => !state.order.includes(id))] : ids;
  state.hasMore = page.has_more;
  emit('sidebar');
}

let searchTimer = 0;
export function setSearch(q: string) {
  state.search = q; state.searchResults = null;
  emit('sidebar');
  clearTimeout(searchTimer);
  if (!q.trim() || !state.hasMore) return;
  // Titles not loaded yet: ask the server (Agora extension `q` on GET /v1/conversations).
  searchTimer = window.setTimeout(async () => {
    try {
      const page = await call<ListPage<Conversation>>('GET', `/v1/conversations?limit=50&order=desc&q=${encodeURIComponent(q.trim())}`);
      if (state.search !== q) return;
      state.searchResults = page.data.map((c) => upsert(c).id);
      emit('sidebar');
    } catch { /* keep the local filter */ }
  }, 250);
}

export function visibleConversations(): Conv[] {
  const q = state.search.trim().toLowerCase();
  let ids = state.order;
  if (q) {
    const extra = (state.searchResults || []).filter((id) => !ids.includes(id));
    ids = [...ids, ...extra].filter((id) => (state.convs.get(id)?.meta.title || 'New chat').toLowerCase().includes(q));
  }
  return ids.map((id) => state.convs.get(id)!).filter(Boolean);
}

export const titleOf = (c: Conv) => c.meta.title || 'New chat';

async function saveMeta(c: Conv) {
  const meta = { ...c.meta };
  const updated = await call<Conversation>('POST', `/v1/conversations/${c.id}`, { metadata: meta });
  return updated;
}

export async function rename(c: Conv, title: string) {
  c.meta.title = title.trim().slice(0, 200);
  emit('sidebar');
  await saveMeta(c);
}

export async function remove(c: Conv) {
  if (c.busy) await stop(c).catch(() => {});
  c.abort?.abort();
  await call('DELETE', `/v1/conversations/${c.id}`);
  state.convs.delete(c.id);
  state.order = state.order.filter((id) => id !== c.id);
  if (state.route.convId === c.id) navigate(null);
  emit('sidebar');
}

export async function setConvOption(c: Conv | null, key: 'mode' | 'model', value: string) {
  if (!c) {
    state.draft[key] = value;
    localStorage.setItem('agora.' + key, value);
    emit('app');
    return;
  }
  c.meta[key] = value;
  localStorage.setItem('agora.' + key, value);
  emit('conv:' + c.id); emit('app');
  await saveMeta(c);
}

// ---------- routing (#/c/<id>, #/settings, #/) ----------
export function applyRoute() {
  const h = location.hash.replace(/^#\/?/, '');
  if (h === 'settings') state.route = { view: 'settings', convId: null };
  else if (h.startsWith('c/')) state.route = { view: 'chat', convId: decodeURIComponent(h.slice(2)) };
  else state.route = { view: 'chat', convId: null };
  const c = current();
  if (c) {
    c.unread = false;
    if (!c.msgs && !c.loading) void loadMessages(c);
  } else if (state.route.convId && state.me && !state.convs.has(state.route.convId)) {
    // A conversation not in the loaded page of the list: fetch it directly.
    const id = state.route.convId;
    call<Conversation>('GET', `/v1/conversations/${encodeURIComponent(id)}`).then((conv) => {
      const v = upsert(conv);
      if (!state.order.includes(v.id)) state.order = [...state.order, v.id];
      emit('sidebar');
      if (state.route.convId === id) { void loadMessages(v); emit('app'); }
    }, () => navigate(null));
  }
  emit('app'); emit('sidebar');
}

export function navigate(convId: string | null) {
  const target = convId ? `#/c/${encodeURIComponent(convId)}` : '#/';
  if (location.hash !== target) location.hash = target; // hashchange → applyRoute
  else applyRoute();
}

export const current = (): Conv | null => (state.route.convId ? state.convs.get(state.route.convId) || null : null);

export const modeOf = (c: Conv | null) => (c ? c.meta.mode : state.draft.mode) || state.modes[0]?.id || 'regular';
export const modelOf = (c: Conv | null) => {
  const m = c ? c.meta.model : state.draft.model;
  return m && state.models.some((x) => x.id === m) ? m : state.models[0]?.id || m || '';
};

// ---------- messages ----------
function toMsg(it: MessageItem, stats: Record<string, Stats>): Msg | null {
  if (it.type !== 'message' || (it.role !== 'user' && it.role !== 'assistant')) return null;
  return {
    key: newKey(), role: it.role as 'user' | 'assistant', text: textOf(it), itemId: it.id,
    status: 'done', truncated: it.status === 'incomplete', stats: stats[it.id],
  };
}

async function fetchItems(c: Conv): Promise<MessageItem[]> {
  const out: MessageItem[] = [];
  let after = '';
  for (;;) {
    const page = await call<ListPage<MessageItem>>('GET', `/v1/conversations/${c.id}/items?limit=100&order=asc${after}`);
    out.push(...page.data);
    if (!page.has_more || !page.last_id) break;
    after = `&after=${encodeURIComponent(page.last_id)}`;
  }
  return out;
}

export async function loadMessages(c: Conv) {
  c.loading = true; c.error = undefined;
  emit('conv:' + c.id);
  try {
    const items = await fetchItems(c);
    const stats = loadStats();
    const msgs = items.map((it) => toMsg(it, stats)).filter((m): m is Msg => !!m);
    // A response still running keeps its local messages (its items are appended when it ends).
    if (c.running && c.msgs) {
      const i = c.msgs.indexOf(c.running);
      const pending = c.msgs.slice(Math.max(0, i - 1)).filter((m) => !m.itemId || !items.some((it) => it.id === m.itemId));
      msgs.push(...pending);
    }
    c.msgs = msgs;
  } catch (e) {
    c.error = (e as Error).message;
  } finally {
    c.loading = false;
    emit('conv:' + c.id);
  }
}

// Creates the conversation on first send.
async function ensureConversation(): Promise<Conv> {
  const cur = current();
  if (cur) return cur;
  const conv = await call<Conversation>('POST', '/v1/conversations', { metadata: { title: '', mode: state.draft.mode, model: modelOf(null) } });
  const c = upsert(conv);
  c.msgs = [];
  state.order = [c.id, ...state.order.filter((id) => id !== c.id)];
  emit('sidebar');
  navigate(c.id);
  return c;
}

export async function send(text: string) {
  text = text.trim();
  if (!text) return;
  const cur = current();
  if (cur && cur.busy) return;
  let c: Conv;
  try { c = await ensureConversation(); } catch (e) { state.notice = (e as Error).message; emit('app'); return; }
  if (!c.msgs) await loadMessages(c);
  await startResponse(c, text);
}

function flushLater(m: Msg) {
  // Coalesce deltas: at most one render of the streaming message per animation frame.
  if ((m as any)._raf) return;
  (m as any)._raf = requestAnimationFrame(() => { (m as any)._raf = 0; emit('msg:' + m.key); });
}

async function startResponse(c: Conv, text: string) {
  const user: Msg = { key: newKey(), role: 'user', text, status: 'done' };
  const asst: Msg = { key: newKey(), role: 'assistant', text: '', status: 'streaming' };
  c.msgs = [...(c.msgs || []), user, asst];
  c.running = asst; c.busy = true; c.unread = false;
  emit('conv:' + c.id); emit('sidebar');
  const mode = state.modes.find((m) => m.id === modeOf(c));
  const model = modelOf(c);
  const body = {
    model, stream: true, background: true, store: true, conversation: c.id,
    instructions: mode?.instructions || undefined,
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }],
  };
  await follow(c, asst, { method: 'POST', path: '/v1/responses', body }, model);
}

interface Follow { lastSeq: number; t0: number; tFirst: number; tLast: number; ended: boolean; final?: ResponseObj }

// Streams one response into `asst`, resuming after drops, until it ends.
async function follow(c: Conv, asst: Msg, first: { method: string; path: string; body?: unknown }, model: string) {
  const f: Follow = { lastSeq: -1, t0: performance.now(), tFirst: 0, tLast: 0, ended: false };
  const ac = new AbortController();
  c.abort = ac;
  const onEvent = (ev: StreamEvent) => {
    if (typeof ev.sequence_number === 'number') {
      if (ev.sequence_number <= f.lastSeq) return; // replayed
      f.lastSeq = ev.sequence_number;
    }
    switch (ev.type) {
      case 'response.created':
        if (!asst.responseId) {
          asst.responseId = ev.response.id;
          emit('msg:' + asst.key);
          if (c.meta.active_response !== ev.response.id) {
            c.meta.active_response = ev.response.id;
            void saveMeta(c).catch(() => {});
          }
        }
        break;
      case 'response.output_item.added':
        if (ev.item?.type === 'message' && !asst.itemId) asst.itemId = ev.item.id;
        break;
      case 'response.output_text.delta': {
        const t = performance.now();
        if (!f.tFirst) f.tFirst = t;
        f.tLast = t;
        asst.text += ev.delta;
        flushLater(asst);
        break;
      }
      case 'response.output_text.done':
        if (typeof ev.text === 'string' && ev.text !== asst.text) { asst.text = ev.text; flushLater(asst); }
        break;
      case 'response.completed': case 'response.incomplete': case 'response.failed': case 'response.cancelled':
        f.ended = true; f.final = ev.response;
        break;
      case 'error':
        f.ended = true; asst.error = ev.message || 'error';
        break;
    }
  };
  let attempt = 0;
  let req = first;
  while (!f.ended && !ac.signal.aborted) {
    try {
      await stream(req.method, req.path, req.body, onEvent, ac.signal);
      attempt = 0;
    } catch (e) {
      if (ac.signal.aborted) break;
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) { asst.error = e.message; break; }
      attempt++;
    }
    if (f.ended || ac.signal.aborted) break;
    if (!asst.responseId) { asst.error = asst.error || 'The server ended the stream before the response was created.'; break; }
    // The stream ended without a terminal event (dropped, or the response was cancelled): look.
    try {
      const r = await call<ResponseObj>('GET', `/v1/responses/${asst.responseId}`);
      if (r.status !== 'in_progress' && r.status !== 'queued') { f.final = r; f.ended = true; break; }
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) { asst.error = 'The response no longer exists.'; break; }
    }
    if (attempt > 6) { asst.error = 'Lost the connection to the server.'; break; }
    if (attempt) await new Promise((r) => setTimeout(r, Math.min(4000, 250 * 2 ** attempt)));
    req = { method: 'GET', path: `/v1/responses/${asst.responseId}?stream=true&starting_after=${f.lastSeq}` };
  }
  if (ac.signal.aborted && !f.final) return; // page left this conversation for good (deleted / signed out)
  finishResponse(c, asst, f, model);
}

function finishResponse(c: Conv, asst: Msg, f: Follow, model: string) {
  if ((asst as any)._raf) { cancelAnimationFrame((asst as any)._raf); (asst as any)._raf = 0; }
  const r = f.final;
  if (r) {
    const text = outputText(r);
    if (text && text !== asst.text) asst.text = text;
    const msgOut = r.output.find((o) => o.type === 'message');
    if (msgOut?.id) asst.itemId = msgOut.id;
    if (r.status === 'completed') asst.status = 'done';
    else if (r.status === 'incomplete') { asst.status = 'done'; asst.truncated = true; }
    else if (r.status === 'cancelled') asst.status = 'stopped';
    else { asst.status = 'error'; asst.error = r.error?.message || asst.error || 'The response failed.'; }
    const genMs = f.tFirst ? f.tLast - f.tFirst : undefined;
    asst.stats = { usage: r.usage || undefined, ms: genMs, ttftMs: f.tFirst ? f.tFirst - f.t0 : undefined, model: r.model || model };
    if (asst.itemId && asst.stats.usage) saveStats(asst.itemId, asst.stats);
  } else {
    asst.status = 'error';
  }
  c.busy = false; c.running = undefined; c.abort = undefined;
  if (state.route.convId !== c.id) c.unread = true;
  const wasActive = c.meta.active_response;
  delete c.meta.active_response;
  emit('msg:' + asst.key); emit('conv:' + c.id); emit('sidebar');
  const needsTitle = !c.meta.title && asst.status === 'done';
  (async () => {
    if (needsTitle) {
      const userText = [...(c.msgs || [])].reverse().find((m) => m.role === 'user')?.text || '';
      c.meta.title = await autoTitle(userText, asst.text, model);
      emit('sidebar');
    }
    if (wasActive || needsTitle) await saveMeta(c);
  })().catch(() => {});
}

export async function autoTitle(userText: string, replyText: string, model: string): Promise<string> {
  const fallback = userText.replace(/\s+/g, ' ').trim().split(' ').slice(0, 6).join(' ').slice(0, 60) || 'New chat';
  try {
    const r = await call<ResponseObj>('POST', '/v1/responses', {
      model, store: false, max_output_tokens: 24, metadata: { agora_purpose: 'title' },
      instructions: 'Write a short title (at most six words) for the conversation that starts with the exchange below. Reply with the title only: no quotes, no punctuation at the end.',
      input: `User: ${userText.slice(0, 1500)}\nAssistant: ${replyText.slice(0, 1500)}`,
    });
    const t = outputText(r).split('\n')[0].replace(/^["'“”\s#*]+|["'“”\s.*]+$/g, '').slice(0, 80);
    return t || fallback;
  } catch {
    return fallback;
  }
}

// Re-attach to a response that was running when the page loaded.
async function resume(c: Conv, responseId: string) {
  let r: ResponseObj;
  try { r = await call<ResponseObj>('GET', `/v1/responses/${responseId}`); } catch { r = null as any; }
  if (!r || (r.status !== 'in_progress' && r.status !== 'queued')) {
    delete c.meta.active_response;
    void saveMeta(c).catch(() => {});
    return;
  }
  const asst: Msg = { key: newKey(), role: 'assistant', text: '', status: 'streaming', responseId };
  c.busy = true; c.running = asst;
  emit('sidebar');
  // The running response's input is not in the conversation yet: show it from input_items.
  let userMsgs: Msg[] = [];
  try {
    const inp = await call<ListPage<MessageItem>>('GET', `/v1/responses/${responseId}/input_items?order=asc&limit=100`);
    userMsgs = inp.data.filter((it) => it.type === 'message' && it.role === 'user').map((it) => ({ key: newKey(), role: 'user' as const, text: textOf(it), status: 'done' as const, itemId: it.id }));
  } catch { /* show the reply alone */ }
  const items = await fetchItems(c).catch(() => [] as MessageItem[]);
  const stats = loadStats();
  const msgs = items.map((it) => toMsg(it, stats)).filter((m): m is Msg => !!m);
  c.msgs = [...msgs, ...userMsgs.filter((u) => !items.some((it) => it.id === u.itemId)), asst];
  emit('conv:' + c.id);
  await follow(c, asst, { method: 'GET', path: `/v1/responses/${responseId}?stream=true` }, r.model);
}

export async function stop(c: Conv) {
  const m = c.running;
  if (!m) return;
  if (!m.responseId) {
    // Not created yet: wait briefly for the id (the POST is in flight).
    for (let i = 0; i < 20 && !m.responseId && c.running === m; i++) await new Promise((r) => setTimeout(r, 50));
    if (!m.responseId) return;
  }
  await call('POST', `/v1/responses/${m.responseId}/cancel`, {});
  // The stream ends; follow() re-reads the response, sees `cancelled` and finishes the message.
}

// Deletes the conversation's items from index `from` on (after re-reading the items so ids are exact).
async function truncateFrom(c: Conv, from: number) {
  const items = await fetchItems(c);
  const msgItems = items.filter((it) => it.type === 'message' && (it.role === 'user' || it.role === 'assistant'));
  for (const it of msgItems.slice(from).reverse()) {
    await call('DELETE', `/v1/conversations/${c.id}/items/${it.id}`);
  }
  const stats = loadStats();
  c.msgs = msgItems.slice(0, from).map((it) => toMsg(it, stats)!).filter(Boolean);
  emit('conv:' + c.id);
}

export async function regenerate(c: Conv) {
  if (c.busy || !c.msgs) return;
  const lastUser = c.msgs.map((m) => m.role).lastIndexOf('user');
  if (lastUser < 0) return;
  const text = c.msgs[lastUser].text;
  c.msgs = c.msgs.slice(0, lastUser);
  c.busy = true; emit('sidebar'); emit('conv:' + c.id);
  try { await truncateFrom(c, lastUser); } finally { c.busy = false; }
  await startResponse(c, text);
}

export async function editAndResend(c: Conv, index: number, text: string) {
  if (c.busy || !c.msgs || !text.trim()) return;
  c.msgs = c.msgs.slice(0, index);
  c.busy = true; emit('sidebar'); emit('conv:' + c.id);
  try { await truncateFrom(c, index); } finally { c.busy = false; }
  await startResponse(c, text.trim());
}

export function newConversation() {
  navigate(null);
}

export const DRAFT_ID = DRAFT;
