// The conversation view: message list, message actions, and the composer.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { memo } from 'preact/compat';
import { useTopic } from './bus';
import { Markdown, copyText } from './markdown';
import {
  state, current, send, stop, regenerate, editAndResend, setConvOption, modeOf, modelOf,
  type Conv, type Msg, type Stats,
} from './store';

// Keeps the list pinned to the bottom while the user has not scrolled up.
const scroller = { el: null as HTMLElement | null, pinned: true };
export function stickToBottom(force = false) {
  const el = scroller.el;
  if (el && (scroller.pinned || force)) el.scrollTop = el.scrollHeight;
}

function fmtStats(s?: Stats): string {
  if (!s) return '';
  const parts: string[] = [];
  if (s.usage) {
    parts.push(`${s.usage.input_tokens} in`);
    if (s.usage.input_tokens_details?.cached_tokens) parts.push(`${s.usage.input_tokens_details.cached_tokens} cached`);
    parts.push(`${s.usage.output_tokens} out`);
  }
  if (s.usage && s.ms && s.ms > 0 && s.usage.output_tokens > 1) parts.push(`${((s.usage.output_tokens - 1) / (s.ms / 1000)).toFixed(1)} tok/s`);
  if (s.ttftMs) parts.push(`first token ${(s.ttftMs / 1000).toFixed(2)} s`);
  if (s.model) parts.push(s.model);
  return parts.join(' · ');
}

const MessageView = memo(function MessageView({ m, conv, index, isLast }: { m: Msg; conv: Conv; index: number; isLast: boolean }) {
  useTopic('msg:' + m.key);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [copied, setCopied] = useState(false);
  useLayoutEffect(() => { if (m.status === 'streaming' && conv.id === state.route.convId) stickToBottom(); });
  const copy = () => copyText(m.text).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1200); });
  if (m.role === 'user') {
    return (
      <div class="msg user" data-testid="message-user">
        {editing ? (
          <form class="edit" onSubmit={(e) => { e.preventDefault(); setEditing(false); void editAndResend(conv, index, draft); }}>
            <textarea data-testid="edit-box" value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} rows={3}
              onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false); if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); setEditing(false); void editAndResend(conv, index, draft); } }} />
            <div class="row"><button type="submit" data-testid="edit-send">Send</button><button type="button" onClick={() => setEditing(false)}>Cancel</button></div>
          </form>
        ) : (
          <div class="bubble">{m.text}</div>
        )}
        <div class="actions">
          <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
          {!editing && <button type="button" class="idle-only" data-testid="edit" onClick={() => { if (conv.busy) return; setDraft(m.text); setEditing(true); }}>Edit</button>}
        </div>
      </div>
    );
  }
  const stats = fmtStats(m.stats);
  return (
    <div class={'msg assistant' + (m.status === 'streaming' ? ' streaming' : '')} data-testid="message-assistant" data-status={m.status} data-response-id={m.responseId}>
      <div class="md"><Markdown text={m.text} />{m.status === 'streaming' && <span class="cursor" aria-hidden="true" />}</div>
      {m.status === 'stopped' && <div class="note">Stopped</div>}
      {m.status === 'done' && m.truncated && <div class="note">Incomplete: the reply reached the length limit</div>}
      {m.status === 'error' && <div class="note err">{m.error || 'Something went wrong.'}</div>}
      {m.status !== 'streaming' && (
        <div class="actions">
          <button type="button" data-testid="copy" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
          {isLast && <button type="button" class="idle-only" data-testid="regenerate" onClick={() => void regenerate(conv)}>Regenerate</button>}
          {stats && <span class="stats" data-testid="message-stats" title={stats} tabIndex={0} aria-label="Usage">i<span class="tip">{stats}</span></span>}
        </div>
      )}
    </div>
  );
});

function Messages({ conv }: { conv: Conv }) {
  useTopic('conv:' + conv.id);
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    scroller.el = ref.current;
    scroller.pinned = true;
    stickToBottom(true);
  }, [conv.id, conv.msgs === null]);
  useLayoutEffect(() => { stickToBottom(); }, [conv.msgs?.length]);
  const msgs = conv.msgs || [];
  return (
    <div class={'messages' + (conv.busy ? ' busy' : '')} ref={ref} onScroll={(e) => { const el = e.currentTarget as HTMLElement; scroller.pinned = el.scrollHeight - el.scrollTop - el.clientHeight < 40; }}>
      <div class="messages-inner">
        {conv.loading && !conv.msgs && <div class="empty">Loading…</div>}
        {conv.error && <div class="note err">{conv.error}</div>}
        {msgs.map((m, i) => <MessageView key={m.key} m={m} conv={conv} index={i} isLast={i === msgs.length - 1} />)}
      </div>
    </div>
  );
}

function Welcome() {
  return (
    <div class="messages"><div class="messages-inner welcome">
      <h1>Agora</h1>
      <p>Ask anything. Several conversations can run at once: start one, switch to another, and come back.</p>
      <p class="hint"><kbd>Enter</kbd> send · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>Esc</kbd> stop · <kbd>Ctrl</kbd>+<kbd>K</kbd> new conversation</p>
    </div></div>
  );
}

export function Composer({ conv }: { conv: Conv | null }) {
  useTopic(conv ? 'conv:' + conv.id : 'draft', 'sidebar');
  const ref = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const busy = !!conv?.busy;
  useEffect(() => { ref.current?.focus(); }, [conv?.id]);
  const submit = () => {
    if (!text.trim() || busy) return;
    const t = text;
    setText('');
    void send(t);
  };
  const fit = (el: HTMLTextAreaElement) => { el.style.height = 'auto'; el.style.height = Math.min(el.scrollHeight, 240) + 'px'; };
  useLayoutEffect(() => { if (ref.current) fit(ref.current); }, [text]);
  return (
    <form class="composer" onSubmit={(e) => { e.preventDefault(); submit(); }}>
      {/* Attachments hook: a file button goes here once the knowledge API lands (input_file parts). */}
      <textarea ref={ref} data-testid="composer" rows={1} placeholder="Message Agora" value={text} aria-label="Message"
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
        }} />
      {busy
        ? <button type="button" class="stop" data-testid="stop" onClick={() => conv && void stop(conv)} aria-label="Stop">■ Stop</button>
        : <button type="submit" class="send" data-testid="send" disabled={!text.trim()} aria-label="Send">Send</button>}
    </form>
  );
}

export function Toolbar({ conv }: { conv: Conv | null }) {
  useTopic('app', conv ? 'conv:' + conv.id : 'draft');
  return (
    <div class="toolbar">
      <label class="sel"><span>Mode</span>
        <select data-testid="mode-select" value={modeOf(conv)} onChange={(e) => void setConvOption(conv, 'mode', (e.target as HTMLSelectElement).value)}>
          {state.modes.map((m) => <option key={m.id} value={m.id} title={m.description}>{m.name}</option>)}
        </select>
      </label>
      <label class="sel"><span>Model</span>
        <select data-testid="model-select" value={modelOf(conv)} onChange={(e) => void setConvOption(conv, 'model', (e.target as HTMLSelectElement).value)}>
          {state.models.map((m) => <option key={m.id} value={m.id}>{m.id}</option>)}
        </select>
      </label>
    </div>
  );
}

export function ChatView() {
  useTopic('app');
  const conv = current();
  return (
    <main class="chat">
      <Toolbar conv={conv} />
      {conv ? <Messages key={conv.id} conv={conv} /> : <Welcome />}
      <Composer key={conv ? conv.id : 'new'} conv={conv} />
    </main>
  );
}
