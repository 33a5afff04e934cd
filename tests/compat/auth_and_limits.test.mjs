// Errors that need their own server: 401 with --api-key, 429 when the queue is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer } from './server.mjs';

test('401 AuthenticationError with a wrong key; the right key works', async () => {
  const server = await startServer(['--api-key', 'sk-right']);
  try {
    const bad = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    await assert.rejects(bad.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    const good = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-right', maxRetries: 0 });
    assert.equal((await good.models.list()).data.length, 2);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('429 RateLimitError with Retry-After when the queue is full', async () => {
  const server = await startServer(['--parallel', '1', '--max-queue', '1']);
  try {
    const client = new OpenAI({ baseURL: server.baseURL, apiKey: 'x', maxRetries: 0 });
    const reqs = [];
    for (let i = 0; i < 8; i++)
      reqs.push(client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], max_tokens: 200, ignore_eos: true }));
    const results = await Promise.allSettled(reqs);
    const limited = results.filter((r) => r.status === 'rejected');
    assert.ok(limited.length > 0, 'some requests were refused');
    for (const r of limited) {
      assert.ok(r.reason instanceof OpenAI.RateLimitError, String(r.reason));
      assert.equal(r.reason.headers['retry-after'], '1');
    }
    assert.ok(results.some((r) => r.status === 'fulfilled'));
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
