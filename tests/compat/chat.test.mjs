// The official openai SDK against agora serve: models, chat (stream and not), n, stop, logprobs,
// JSON mode, strict json_schema, tool calls, embeddings, completions, and the SDK's error classes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer } from './server.mjs';

let server;
let client;
before(async () => {
  server = await startServer();
  client = new OpenAI({ baseURL: server.baseURL, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  assert.equal(await server.stop(), 0, 'agora serve exits 0 after SIGTERM');
});

const model = 'rand-qwen2';
const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }];

test('models list and retrieve', async () => {
  const list = await client.models.list();
  const ids = list.data.map((m) => m.id);
  assert.deepEqual(ids.sort(), ['rand-qwen2', 'stories260K']);
  const m = await client.models.retrieve('stories260K');
  assert.equal(m.object, 'model');
});

test('chat: streamed text equals the non-streamed text for the same seed', async () => {
  const params = { model, messages, max_tokens: 24, seed: 7, temperature: 0.9 };
  const full = await client.chat.completions.create(params);
  assert.equal(full.object, 'chat.completion');
  assert.equal(full.choices[0].message.role, 'assistant');
  assert.equal(full.usage.completion_tokens, 24);
  assert.equal(full.usage.prompt_tokens_details.cached_tokens >= 0, true);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  let first = true;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    if (!chunk.choices.length) continue;
    if (first) { assert.equal(chunk.choices[0].delta.role, 'assistant'); first = false; }
    text += chunk.choices[0].delta.content ?? '';
    finish = chunk.choices[0].finish_reason ?? finish;
  }
  assert.equal(text, full.choices[0].message.content);
  assert.equal(finish, full.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, 24);
});

test('chat: n > 1 and the stream helper', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 4, n: 3, seed: 1 });
  assert.equal(r.choices.length, 3);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  const runner = client.beta.chat.completions.stream({ model, messages, max_tokens: 6, seed: 3 });
  const final = await runner.finalChatCompletion();
  assert.equal(typeof final.choices[0].message.content, 'string');
});

test('chat: stop strings end the text before them', async () => {
  const base = await client.chat.completions.create({ model, messages, max_tokens: 30, temperature: 0 });
  const text = base.choices[0].message.content;
  const stop = text.slice(5, 8);
  if (stop.length < 3) return; // nothing to cut
  const r = await client.chat.completions.create({ model, messages, max_tokens: 30, temperature: 0, stop: [stop] });
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.content, text.slice(0, text.indexOf(stop)));
});

test('chat: logprobs with top_logprobs', async () => {
  const r = await client.chat.completions.create({ model, messages, max_tokens: 5, logprobs: true, top_logprobs: 3 });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, 5);
  for (const t of lp) {
    assert.equal(typeof t.logprob, 'number');
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
  }
});

test('chat: JSON mode returns a JSON object', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Reply in JSON.' }], max_tokens: 400, seed: 5,
    response_format: { type: 'json_object' },
  });
  if (r.choices[0].finish_reason === 'stop') assert.equal(typeof JSON.parse(r.choices[0].message.content), 'object');
});

test('chat: strict json_schema parsed by the SDK helper', async () => {
  const schema = {
    type: 'object',
    properties: { answer: { type: 'string', maxLength: 12 }, ok: { type: 'boolean' } },
    required: ['answer', 'ok'],
    additionalProperties: false,
  };
  const r = await client.beta.chat.completions.parse({
    model, messages, max_tokens: 200, seed: 11,
    response_format: { type: 'json_schema', json_schema: { name: 'reply', strict: true, schema } },
  });
  const parsed = r.choices[0].message.parsed;
  assert.equal(typeof parsed.answer, 'string');
  assert.equal(typeof parsed.ok, 'boolean');
});

const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 16 } }, required: ['city'], additionalProperties: false },
  },
}];

test('chat: forced tool call has valid JSON arguments; the tool result round-trips', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Weather in Paris?' }], max_tokens: 200, seed: 2, tools,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  const call = r.choices[0].message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
  assert.match(call.id, /^call_/);
  const follow = await client.chat.completions.create({
    model, max_tokens: 8, tools, tool_choice: 'auto',
    messages: [{ role: 'user', content: 'Weather in Paris?' }, r.choices[0].message,
      { role: 'tool', tool_call_id: call.id, content: '{"temp_c": 21}' }],
  });
  assert.ok(['stop', 'length', 'tool_calls'].includes(follow.choices[0].finish_reason));
});

test('chat: forced tool call streams tool-call deltas', async () => {
  const stream = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Weather?' }], max_tokens: 200, seed: 4, tools, tool_choice: 'required', stream: true,
  });
  let name = '';
  let args = '';
  let fragments = 0;
  let finish = null;
  for await (const chunk of stream) {
    const d = chunk.choices[0]?.delta;
    for (const tc of d?.tool_calls ?? []) {
      assert.equal(tc.index, 0);
      name += tc.function?.name ?? '';
      if (tc.function?.arguments) fragments++;
      args += tc.function?.arguments ?? '';
    }
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(name, 'get_weather');
  assert.equal(typeof JSON.parse(args).city, 'string');
  assert.ok(fragments > 1, `arguments arrive in several fragments, as OpenAI streams them (got ${fragments})`);
  assert.equal(finish, 'tool_calls');
});

test('chat: the SDK stream helper assembles fragmented tool-call arguments', async () => {
  const stream = client.beta.chat.completions.stream({
    model, messages: [{ role: 'user', content: 'Weather?' }], max_tokens: 200, seed: 5, tools,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  const done = await stream.finalChatCompletion();
  const call = done.choices[0].message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.equal(typeof JSON.parse(call.function.arguments).city, 'string');
});

test('embeddings: float and base64', async () => {
  const f = await client.embeddings.create({ model: 'stories260K', input: ['hello', 'world'], encoding_format: 'float' });
  assert.equal(f.data.length, 2);
  assert.ok(f.data[0].embedding.length > 0);
  const b = await client.embeddings.create({ model: 'stories260K', input: 'hello' }); // SDK asks for base64 and decodes
  assert.equal(b.data[0].embedding.length, f.data[0].embedding.length);
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(b.data[0].embedding[i] - f.data[0].embedding[i]) < 1e-6);
});

test('completions: prompt array, echo, logprobs, stream', async () => {
  const r = await client.completions.create({ model: 'stories260K', prompt: ['Once upon', 'A cat'], max_tokens: 5, echo: true, logprobs: 2, seed: 1 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 2);
  assert.ok(r.choices[1].text.startsWith('A cat'));
  assert.equal(r.choices[0].logprobs.tokens.length, 5);
  const s = await client.completions.create({ model: 'stories260K', prompt: 'Once upon', max_tokens: 5, stream: true, seed: 1 });
  let text = '';
  for await (const c of s) text += c.choices[0]?.text ?? '';
  const n = await client.completions.create({ model: 'stories260K', prompt: 'Once upon', max_tokens: 5, seed: 1 });
  assert.equal(text, n.choices[0].text);
});

test('errors: 400 BadRequestError with param, 404 NotFoundError', async () => {
  await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'wizard', content: 'x' }] }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.status, 400);
    assert.equal(e.param, 'messages[0].role');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'nope', messages }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.code, 'model_not_found');
    return true;
  });
  const long = 'hello '.repeat(5000);
  await assert.rejects(client.chat.completions.create({ model: 'stories260K', messages: [{ role: 'user', content: long }] }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError);
    assert.equal(e.code, 'context_length_exceeded');
    return true;
  });
});
