// The sidebar: new conversation, search, the conversation list with busy/unread markers,
// rename and delete, and links to settings / sign-out.
import { useState } from 'preact/hooks';
import { useTopic } from './bus';
import { state, visibleConversations, titleOf, navigate, rename, remove, setSearch, loadConversations, newConversation, logout, type Conv } from './store';

function Item({ c, active, onPick }: { c: Conv; active: boolean; onPick: () => void }) {
  const [editing, setEditing] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [title, setTitle] = useState('');
  return (
    <li class={'conv' + (active ? ' active' : '')} data-testid="conversation-item" data-id={c.id}
      data-busy={c.busy ? 'true' : 'false'} data-unread={c.unread ? 'true' : 'false'}>
      {editing ? (
        <form onSubmit={(e) => { e.preventDefault(); setEditing(false); void rename(c, title); }}>
          <input data-testid="rename-input" value={title} maxLength={200} onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => { if (e.key === 'Escape') setEditing(false); }} onBlur={() => setEditing(false)} ref={(el) => el?.focus()} />
        </form>
      ) : (
        <a href={'#/c/' + encodeURIComponent(c.id)} class="conv-link" onClick={onPick} aria-current={active ? 'page' : undefined}>
          <span class="conv-title" data-testid="conversation-title">{titleOf(c)}</span>
          {c.busy && <span class="dot busy" title="Generating" aria-label="generating" />}
          {!c.busy && c.unread && <span class="dot unread" title="New reply" aria-label="unread" />}
        </a>
      )}
      {!editing && (
        <span class="conv-actions">
          <button type="button" title="Rename" aria-label="Rename" data-testid="rename" onClick={() => { setTitle(titleOf(c)); setEditing(true); }}>✎</button>
          {confirm
            ? <button type="button" class="danger" data-testid="confirm-delete" onClick={() => { setConfirm(false); void remove(c); }} onBlur={() => setConfirm(false)}>Delete?</button>
            : <button type="button" title="Delete" aria-label="Delete" data-testid="delete" onClick={() => setConfirm(true)}>✕</button>}
        </span>
      )}
    </li>
  );
}

export function Sidebar({ onPick }: { onPick: () => void }) {
  useTopic('sidebar', 'app');
  const list = visibleConversations();
  return (
    <nav class="sidebar" aria-label="Conversations">
      <div class="side-top">
        <button type="button" class="new" data-testid="new-conversation" onClick={() => { newConversation(); onPick(); }} title="New conversation (Ctrl+K)">+ New conversation</button>
        <input type="search" class="search" data-testid="search" placeholder="Search" value={state.search} aria-label="Search conversations"
          onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
      </div>
      <ul class="convs">
        {list.map((c) => <Item key={c.id} c={c} active={c.id === state.route.convId} onPick={onPick} />)}
        {!list.length && <li class="empty">{state.search ? 'No match' : 'No conversations yet'}</li>}
      </ul>
      {state.hasMore && !state.search && <button type="button" class="more" onClick={() => void loadConversations(true)}>Load more</button>}
      <div class="side-bottom">
        <a href="#/settings" data-testid="settings-link" onClick={onPick}>Settings</a>
        {state.me?.auth_required && <button type="button" data-testid="sign-out" onClick={() => void logout()}>Sign out ({state.me.user?.username})</button>}
      </div>
    </nav>
  );
}

export const goHome = () => navigate(null);
