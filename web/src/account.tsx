// Sign-in page and the settings page (API keys).
import { useEffect, useState } from 'preact/hooks';
import { call, type ApiKey, type ListPage } from './api';
import { state, login, navigate } from './store';
import { copyText } from './markdown';

export function SignIn() {
  const [username, setU] = useState('');
  const [password, setP] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  return (
    <div class="signin">
      <form class="card" data-testid="signin-form" onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true); setError('');
        try { await login(username, password); } catch (err) { setError((err as Error).message); } finally { setBusy(false); }
      }}>
        <h1>Sign in to Agora</h1>
        <label>Username<input data-testid="username" autocomplete="username" value={username} onInput={(e) => setU((e.target as HTMLInputElement).value)} required /></label>
        <label>Password<input data-testid="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setP((e.target as HTMLInputElement).value)} required /></label>
        {error && <div class="note err" role="alert" data-testid="signin-error">{error}</div>}
        <button type="submit" data-testid="signin-submit" disabled={busy}>Sign in</button>
      </form>
    </div>
  );
}

const fmtDate = (s: number | null) => (s ? new Date(s * 1000).toLocaleString() : 'never');

export function Settings() {
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<ApiKey | null>(null);
  const [error, setError] = useState('');
  const authOn = !!state.me?.auth_required;
  const load = () => call<ListPage<ApiKey>>('GET', '/auth/keys').then((p) => setKeys(p.data), (e) => setError(e.message));
  useEffect(() => { if (authOn) void load(); }, [authOn]);
  return (
    <main class="settings" data-testid="settings">
      <div class="settings-inner">
        <button type="button" class="back" onClick={() => navigate(null)}>← Back to chat</button>
        <h1>Settings</h1>
        <section>
          <h2>Account</h2>
          <p>{authOn ? <>Signed in as <b data-testid="username-display">{state.me?.user?.username}</b>.</> : 'This server runs without authentication (--no-auth): no sign-in and no API keys are needed.'}</p>
        </section>
        {authOn && (
          <section>
            <h2>API keys</h2>
            <p>Use a key with any OpenAI client: <code>Authorization: Bearer &lt;key&gt;</code>, base URL <code>{location.origin}/v1</code>.</p>
            <form class="row" onSubmit={async (e) => {
              e.preventDefault(); setError('');
              try { const k = await call<ApiKey>('POST', '/auth/keys', { name }); setCreated(k); setName(''); await load(); } catch (err) { setError((err as Error).message); }
            }}>
              <input data-testid="key-name" placeholder="Key name" value={name} maxLength={100} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
              <button type="submit" data-testid="create-key">Create key</button>
            </form>
            {created && (
              <div class="note ok" data-testid="new-key">
                <p>Copy this key now; it is not shown again.</p>
                <code data-testid="new-key-value">{created.value}</code> <button type="button" onClick={() => copyText(created.value || '')}>Copy</button>
              </div>
            )}
            {error && <div class="note err">{error}</div>}
            <table class="keys">
              <thead><tr><th>Name</th><th>Key</th><th>Created</th><th>Last used</th><th /></tr></thead>
              <tbody>
                {(keys || []).map((k) => (
                  <tr key={k.id} data-testid="key-row">
                    <td>{k.name}</td><td><code>{k.redacted_value}</code></td><td>{fmtDate(k.created_at)}</td><td>{fmtDate(k.last_used_at)}</td>
                    <td><button type="button" class="danger" data-testid="revoke-key" onClick={async () => {
                      try { await call('DELETE', `/auth/keys/${k.id}`); if (created?.id === k.id) setCreated(null); await load(); } catch (err) { setError((err as Error).message); }
                    }}>Revoke</button></td>
                  </tr>
                ))}
                {keys && !keys.length && <tr><td colSpan={5} class="empty">No keys yet</td></tr>}
              </tbody>
            </table>
          </section>
        )}
      </div>
    </main>
  );
}
