// HTTP client for Agora's API (same origin). JSON calls, OpenAI error objects, CSRF header for
// cookie sessions, and a Server-Sent Events reader for the Responses API's semantic events.

export class ApiError extends Error {
  constructor(public status: number, message: string, public code: string | null = null) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => {};

export function setCsrfToken(t: string | null) { csrfToken = t; }
export function setUnauthorizedHandler(fn: () => void) { onUnauthorized = fn; }

function headers(method: string, hasBody: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (hasBody) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  return h;
}

async function errorOf(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`, code: string | null = null;
  try {
    const j = await res.json();
    if (j && j.error) { message = j.error.message || message; code = j.error.code ?? null; }
  } catch { /* not JSON */ }
  return new ApiError(res.status, message, code);
}

export async function call<T = any>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
    method, credentials: 'same-origin', headers: headers(method, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body), signal,
  });
  if (!res.ok) {
    const e = await errorOf(res);
    if (res.status === 401 && !path.startsWith('/auth/login')) onUnauthorized();
    throw e;
  }
  return res.json() as Promise<T>;
}

export interface StreamEvent { type: string; sequence_number: number; [k: string]: any }

// Opens an SSE request and calls onEvent for each event; resolves when the stream ends.
export async function stream(method: string, path: string, body: unknown, onEvent: (e: StreamEvent) => void, signal?: AbortSignal): Promise<void> {
  const h = headers(method, body !== undefined);
  h.Accept = 'text/event-stream';
  const res = await fetch(path, {
    method, credentials: 'same-origin', headers: h,
    body: body === undefined ? undefined : JSON.stringify(body), signal,
  });
  if (!res.ok) {
    const e = await errorOf(res);
    if (res.status === 401) onUnauthorized();
    throw e;
  }
  if (!res.body) throw new ApiError(0, 'No response body.');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i: number;
    // Events are separated by a blank line (\n\n or \r\n\r\n).
    while ((i = buf.search(/\r?\n\r?\n/)) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + (buf[i] === '\r' ? 4 : 2));
      let data = '';
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
      }
      if (!data || data === '[DONE]') continue;
      let ev: StreamEvent;
      try { ev = JSON.parse(data); } catch { continue; }
      onEvent(ev);
    }
  }
}

// ---- typed shapes used by the page (subset of the OpenAI types) ----
export interface Conversation { id: string; object: 'conversation'; created_at: number; metadata: Record<string, string> | null }
export interface ListPage<T> { object: 'list'; data: T[]; first_id: string | null; last_id: string | null; has_more: boolean }
export interface ContentPart { type: string; text?: string }
export interface MessageItem { type: 'message'; id: string; role: string; status?: string; content: ContentPart[] }
export interface Usage { input_tokens: number; output_tokens: number; total_tokens: number; input_tokens_details?: { cached_tokens?: number } }
export interface ResponseObj {
  id: string; object: 'response'; status: string; model: string; output: any[]; usage?: Usage | null;
  error?: { message: string; code?: string } | null; incomplete_details?: { reason?: string } | null;
}
export interface Model { id: string; object: 'model'; owned_by?: string }
export interface Mode { id: string; name: string; description?: string; instructions: string }
export interface Me { auth_required: boolean; user: { id: string; username: string } | null; csrf_token: string | null }
export interface ApiKey { id: string; name: string; created_at: number; last_used_at: number | null; redacted_value: string; value?: string }

export const textOf = (item: { content?: ContentPart[] }) =>
  (item.content || []).map((p) => (typeof p.text === 'string' ? p.text : '')).join('');

export const outputText = (r: ResponseObj) =>
  r.output.filter((o) => o.type === 'message').map((o) => textOf(o)).join('');
