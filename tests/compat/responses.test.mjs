// The official openai SDK against agora serve: the Responses API (plain, streamed with the SDK's
// stream helper, previous_response_id chains, a function-call round trip, strict json_schema
// parsed by the SDK helper, background + retrieve + resumed stream + cancel, store=false) and the
// Conversations API (through the SDK's generic client.post/get: this SDK version has no
// conversations resource), pagination, and 404s for unknown and other users' ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import OpenAI from 'openai';
import { startServer, bin } from './server.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let server, alice, bob, dataDir;
const model = 'rand-qwen2';

function admin(...args) {
  return execFileSync(bin, ['admin', ...args, '--data-dir', dataDir], { encoding: 'utf8' }).trim().split('\n').pop();
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-resp-'));
  admin('create-user', 'alice');
  admin('create-user', 'bob');
  const ka = admin('create-key', '--user', 'alice');
  const kb = admin('create-key', '--user', 'bob');
  server = await startServer(['--auth', '--data-dir', dataDir]);
  alice = new OpenAI({ baseURL: server.baseURL, apiKey: ka, maxRetries: 0 });
  bob = new OpenAI({ baseURL: server.baseURL, apiKey: kb, maxRetries: 0 });
});
after(async () => {
  assert.equal(await server.stop(), 0, 'agora serve exits 0 after SIGTERM');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

test('responses.create: plain, with usage and output_text', async () => {
  const r = await alice.responses.create({ model, input: 'Say hello.', max_output_tokens: 12, temperature: 0 });
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  assert.ok(['completed', 'incomplete'].includes(r.status));
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.equal(typeof r.output_text, 'string');
  assert.equal(r.usage.output_tokens <= 12, true);
  assert.equal(typeof r.usage.input_tokens_details.cached_tokens, 'number');
  const again = await alice.responses.retrieve(r.id);
  assert.equal(again.id, r.id);
  assert.equal(again.output[0].content[0].text, r.output[0].content[0].text);
});

test('responses.stream: the SDK helper assembles the text; events are ordered', async () => {
  const stream = alice.responses.stream({ model, input: 'Tell me a story.', max_output_tokens: 16, temperature: 0 });
  const types = [];
  let deltas = '';
  let last = -1;
  stream.on('event', (e) => {
    types.push(e.type);
    assert.equal(e.sequence_number, last + 1);
    last = e.sequence_number;
    if (e.type === 'response.output_text.delta') deltas += e.delta;
  });
  const final = await stream.finalResponse();
  assert.equal(types[0], 'response.created');
  assert.equal(types[1], 'response.in_progress');
  assert.ok(types.includes('response.output_item.added'));
  assert.ok(['response.completed', 'response.incomplete'].includes(types.at(-1)));
  const finalText = final.output[0].content[0].text;
  assert.equal(finalText, deltas);
  const plain = await alice.responses.create({ model, input: 'Tell me a story.', max_output_tokens: 16, temperature: 0 });
  assert.equal(plain.output_text, finalText, 'same greedy text streamed and not');
});

test('previous_response_id chains the context; unknown ids are 404', async () => {
  const a = await alice.responses.create({ model, input: 'My name is Ada.', max_output_tokens: 4 });
  const b = await alice.responses.create({ model, input: 'What is my name?', previous_response_id: a.id, max_output_tokens: 4 });
  assert.equal(b.previous_response_id, a.id);
  const alone = await alice.responses.create({ model, input: 'What is my name?', max_output_tokens: 4 });
  assert.ok(b.usage.input_tokens > alone.usage.input_tokens, 'the chain adds the earlier turn');
  await assert.rejects(alice.responses.create({ model, input: 'x', previous_response_id: 'resp_nope' }), OpenAI.NotFoundError);
  await assert.rejects(bob.responses.create({ model, input: 'x', previous_response_id: a.id }), OpenAI.NotFoundError);
});

test('function-call round trip', async () => {
  const tools = [{ type: 'function', name: 'get_weather', description: 'Weather for a city', strict: true,
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } }];
  const r1 = await alice.responses.create({ model, input: 'Weather in Paris?', tools, tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 400, temperature: 0 });
  const call = r1.output.find((o) => o.type === 'function_call');
  assert.ok(call, JSON.stringify(r1.output));
  assert.equal(call.name, 'get_weather');
  assert.equal(typeof JSON.parse(call.arguments).city, 'string');
  const r2 = await alice.responses.create({ model, previous_response_id: r1.id, tools, max_output_tokens: 6,
    input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp_c":21}' }] });
  assert.equal(r2.output.at(-1).type === 'message' || r2.output.at(-1).type === 'function_call', true);
  const items = await alice.responses.inputItems.list(r2.id);
  assert.equal(items.data[0].type, 'function_call_output');
});

test('strict json_schema output parsed by the SDK helper', async () => {
  // Bounded values, so even a random model finishes the object within the token budget.
  const schema = { type: 'object', properties: { answer: { type: 'string', enum: ['yes', 'no'] }, ok: { type: 'boolean' } },
    required: ['answer', 'ok'], additionalProperties: false };
  const r = await alice.responses.parse({ model, input: 'Reply.', max_output_tokens: 400, temperature: 0,
    text: { format: { type: 'json_schema', name: 'reply', strict: true, schema } } });
  assert.equal(r.status, 'completed');
  assert.ok(['yes', 'no'].includes(r.output_parsed.answer));
  assert.equal(typeof r.output_parsed.ok, 'boolean');
});

test('background: retrieve, resume the stream from a sequence number, cancel', async () => {
  const r = await alice.responses.create({ model: 'stories260K', input: 'Once upon a time', background: true, max_output_tokens: 200 });
  assert.equal(r.background, true);
  assert.ok(['queued', 'in_progress'].includes(r.status));
  let done;
  for (let i = 0; i < 200; i++) {
    done = await alice.responses.retrieve(r.id);
    if (!['queued', 'in_progress'].includes(done.status)) break;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  assert.ok(['completed', 'incomplete'].includes(done.status));
  const all = [];
  for await (const e of await alice.responses.retrieve(r.id, { stream: true })) all.push(e);
  assert.equal(all[0].type, 'response.created');
  assert.deepEqual(all.map((e) => e.sequence_number), all.map((_, i) => i));
  const tail = [];
  for await (const e of await alice.responses.retrieve(r.id, { stream: true, starting_after: 3 })) tail.push(e);
  assert.equal(tail[0].sequence_number, 4);
  assert.equal(tail.length, all.length - 4);

  // A long one, cancelled while it runs.
  const long = await alice.responses.create({ model: 'stories260K', input: 'Once', background: true, max_output_tokens: 4000 });
  await new Promise((ok) => setTimeout(ok, 100));
  await alice.responses.cancel(long.id);
  const c = await alice.responses.retrieve(long.id);
  assert.equal(c.status, 'cancelled');
  await assert.rejects(bob.responses.cancel(long.id), OpenAI.NotFoundError);
  await assert.rejects(bob.responses.retrieve(long.id), OpenAI.NotFoundError);
});

test('store=false responses are not kept; delete removes a response', async () => {
  const r = await alice.responses.create({ model, input: 'hi', store: false, max_output_tokens: 3 });
  await assert.rejects(alice.responses.retrieve(r.id), OpenAI.NotFoundError);
  const k = await alice.responses.create({ model, input: 'hi', max_output_tokens: 3 });
  await assert.rejects(bob.responses.del(k.id), OpenAI.NotFoundError);
  await alice.responses.del(k.id);
  await assert.rejects(alice.responses.retrieve(k.id), OpenAI.NotFoundError);
  await assert.rejects(alice.responses.retrieve('resp_unknown'), OpenAI.NotFoundError);
});

test('conversations: items, pagination, a response appended, other users get 404', async () => {
  const conv = await alice.post('/conversations', { body: { metadata: { title: 'Trip' },
    items: [{ type: 'message', role: 'user', content: 'Hello' }] } });
  assert.match(conv.id, /^conv_/);
  assert.equal(conv.object, 'conversation');
  assert.deepEqual(conv.metadata, { title: 'Trip' });
  const added = await alice.post(`/conversations/${conv.id}/items`, { body: { items: [
    { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi!' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Plan a trip' }] }] } });
  assert.equal(added.data.length, 2);
  const r = await alice.responses.create({ model, conversation: conv.id, input: 'Where to?', max_output_tokens: 5 });
  assert.equal(r.conversation.id, conv.id);
  const items = await alice.get(`/conversations/${conv.id}/items`, { query: { order: 'asc', limit: 100 } });
  assert.equal(items.data.length, 5, JSON.stringify(items.data.map((i) => i.role)));
  assert.equal(items.data[3].content[0].text, 'Where to?');
  assert.equal(items.data[4].role, 'assistant');
  // Pagination, both orders.
  const p1 = await alice.get(`/conversations/${conv.id}/items`, { query: { order: 'asc', limit: 2 } });
  assert.equal(p1.has_more, true);
  const p2 = await alice.get(`/conversations/${conv.id}/items`, { query: { order: 'asc', limit: 2, after: p1.last_id } });
  assert.equal(p2.data[0].id, items.data[2].id);
  const desc = await alice.get(`/conversations/${conv.id}/items`, { query: { limit: 1 } });
  assert.equal(desc.data[0].id, items.data[4].id);
  const one = await alice.get(`/conversations/${conv.id}/items/${items.data[0].id}`);
  assert.equal(one.id, items.data[0].id);
  // Update, list (Agora extension) with a title search, delete an item.
  const upd = await alice.post(`/conversations/${conv.id}`, { body: { metadata: { title: 'Trip to Rome' } } });
  assert.equal(upd.metadata.title, 'Trip to Rome');
  const list = await alice.get('/conversations', { query: { q: 'rome' } });
  assert.deepEqual(list.data.map((c) => c.id), [conv.id]);
  await alice.delete(`/conversations/${conv.id}/items/${items.data[0].id}`);
  // Another user's conversation is not found, everywhere.
  for (const call of [() => bob.get(`/conversations/${conv.id}`), () => bob.get(`/conversations/${conv.id}/items`),
    () => bob.post(`/conversations/${conv.id}`, { body: { metadata: {} } }),
    () => bob.post(`/conversations/${conv.id}/items`, { body: { items: [{ role: 'user', content: 'x' }] } }),
    () => bob.delete(`/conversations/${conv.id}`),
    () => bob.responses.create({ model, conversation: conv.id, input: 'x' })]) {
    await assert.rejects(call(), OpenAI.NotFoundError);
  }
  assert.equal((await bob.get('/conversations')).data.length, 0);
  const del = await alice.delete(`/conversations/${conv.id}`);
  assert.equal(del.deleted, true);
  await assert.rejects(alice.get(`/conversations/${conv.id}`), OpenAI.NotFoundError);
});

test('conversations list pages by creation, newest first', async () => {
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push((await bob.post('/conversations', { body: { metadata: { title: `c${i}` } } })).id);
  const p1 = await bob.get('/conversations', { query: { limit: 3 } });
  assert.deepEqual(p1.data.map((c) => c.id), ids.slice(2).reverse());
  assert.equal(p1.has_more, true);
  const p2 = await bob.get('/conversations', { query: { limit: 3, after: p1.last_id } });
  assert.deepEqual(p2.data.map((c) => c.id), ids.slice(0, 2).reverse());
  assert.equal(p2.has_more, false);
});

test('unauthenticated calls are 401', async () => {
  const anon = new OpenAI({ baseURL: server.baseURL, apiKey: 'sk-agora-wrong', maxRetries: 0 });
  await assert.rejects(anon.responses.create({ model, input: 'x' }), OpenAI.AuthenticationError);
});
