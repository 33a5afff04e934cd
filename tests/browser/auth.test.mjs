// Authentication on: a signed-out browser gets no data, sign-in, API key creation and use,
// revocation, CSRF protection of the cookie session, sign-out.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, shot, api, waitFor } from './helpers.mjs';

let srv, br, page;
const T = (id) => `[data-testid="${id}"]`;

describe('accounts (auth on)', { skip: !!process.env.AGORA_BASE_URL && !process.env.AGORA_AUTH_BASE_URL && 'set AGORA_AUTH_BASE_URL for a server with auth on' }, () => {
  before(async () => {
    srv = await startServer({ auth: true });
    br = await launch();
    page = br.page;
  });
  after(async () => { await br?.close(); await srv?.close(); });

  test('a signed-out browser gets the sign-in page and no data', async () => {
    const anon = api(srv.url, { Authorization: '' });
    for (const p of ['/v1/conversations', '/v1/models', '/auth/me', '/auth/keys']) {
      const r = await anon.get(p);
      assert.equal(r.status, 401, p);
      assert.equal(typeof r.json.error.message, 'string');
    }
    assert.equal((await anon.post('/v1/conversations', {})).status, 401);
    await page.goto(srv.url + '/');
    await page.locator(T('signin-form')).waitFor();
    assert.equal(await page.locator(T('conversation-item')).count(), 0);
    assert.equal(await page.locator(T('composer')).count(), 0);
    await shot(page, 'signin');
    await page.locator(T('username')).fill(srv.user);
    await page.locator(T('password')).fill('wrong password');
    await page.locator(T('signin-submit')).click();
    await page.locator(T('signin-error')).waitFor();
    assert.equal(await page.locator(T('composer')).count(), 0);
  });

  test('sign in, chat, create and use an API key, revoke it', async () => {
    await page.locator(T('password')).fill(srv.password);
    await page.locator(T('signin-submit')).click();
    await page.locator(T('composer')).waitFor();
    const cookies = await br.context.cookies(srv.url);
    const session = cookies.find((c) => c.name === 'agora_session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate(() => document.cookie.includes('agora_session')), false, 'not readable by script');

    await page.locator(T('composer')).fill('hello [[words=4]]');
    await page.locator(T('composer')).press('Enter');
    await waitFor(async () => (await page.locator(T('message-assistant')).last().getAttribute('data-status')) === 'done', { what: 'reply', timeout: 60000 });

    // CSRF: a state-changing call with the cookie but without the token is refused.
    const csrf = await page.evaluate(async () => (await fetch('/v1/conversations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status);
    assert.equal(csrf, 403);

    await page.locator(T('settings-link')).click();
    await page.locator(T('settings')).waitFor();
    await page.locator(T('key-name')).fill('ci key');
    await page.locator(T('create-key')).click();
    const key = await page.locator(T('new-key-value')).textContent();
    assert.match(key, /^sk-/);
    assert.equal(await page.locator(T('key-row')).count(), 1);
    await shot(page, 'settings');
    const withKey = api(srv.url, { Authorization: `Bearer ${key}` });
    const models = await withKey.get('/v1/models');
    assert.equal(models.status, 200);
    const convs = await withKey.get('/v1/conversations');
    assert.equal(convs.status, 200);
    assert.equal(convs.json.data.length, 1, 'the key sees this user\'s conversation');
    await page.locator(T('revoke-key')).click();
    await waitFor(async () => (await page.locator(T('key-row')).count()) === 0, { what: 'revoked' });
    assert.equal((await withKey.get('/v1/models')).status, 401);
  });

  test('sign out: the page shows no data and the session is gone', async () => {
    await page.locator(T('sign-out')).click();
    await page.locator(T('signin-form')).waitFor();
    assert.equal(await page.locator(T('conversation-item')).count(), 0);
    assert.equal(await page.locator(T('message-assistant')).count(), 0);
    const status = await page.evaluate(async () => (await fetch('/v1/conversations')).status);
    assert.equal(status, 401);
    await page.reload();
    await page.locator(T('signin-form')).waitFor();
    assert.equal(await page.locator(T('conversation-item')).count(), 0);
    assert.deepEqual(br.errors, []);
  });
});
