import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useTopic } from './bus';
import { setUnauthorizedHandler } from './api';
import { state, boot, applyRoute, current, stop, newConversation, signedOut } from './store';
import { Sidebar } from './sidebar';
import { ChatView } from './chat';
import { SignIn, Settings } from './account';
import './style.css';

function App() {
  useTopic('app');
  const [drawer, setDrawer] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && (e.key === 'k' || e.key === 'K')) {
        e.preventDefault();
        if (state.me) { newConversation(); setDrawer(false); }
      } else if (e.key === 'Escape') {
        const c = current();
        if (c?.busy) { e.preventDefault(); void stop(c); }
        setDrawer(false);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  if (!state.authChecked) return <div class="boot" />;
  if (!state.me) {
    if (state.signedOut) return <SignIn />;
    return <div class="boot"><div class="note err">{state.notice || 'Loading…'}</div></div>;
  }
  return (
    <div class={'app' + (drawer ? ' drawer-open' : '')}>
      <button type="button" class="menu" data-testid="menu" aria-label="Conversations" onClick={() => setDrawer(!drawer)}>☰</button>
      <div class="scrim" onClick={() => setDrawer(false)} />
      <Sidebar onPick={() => setDrawer(false)} />
      {state.route.view === 'settings' ? <Settings /> : <ChatView />}
      {state.notice && <div class="toast" role="status" onClick={() => { state.notice = ''; }}>{state.notice}</div>}
    </div>
  );
}

setUnauthorizedHandler(signedOut);
window.addEventListener('hashchange', applyRoute);
// CSP violations are reported in the console (and never executed: the policy blocks them).
document.addEventListener('securitypolicyviolation', (e) => console.warn('CSP blocked', e.violatedDirective, e.blockedURI));
render(<App />, document.getElementById('app')!);
void boot();
