// The Assistants v2 API with the official openai SDK against a real `agora serve --auth`:
// files, assistants CRUD with the auto-paginating iterators, threads and messages,
// runs.createAndPoll, a function-calling round trip with runs.stream and
// submitToolOutputsStream (the SDK's stream helpers assemble the events), cancel, and the errors
// for a second active run and for another user's objects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import OpenAI, { toFile } from 'openai';
import { startServer, bin } from './server.mjs';

let server, dataDir, alice, bob;
const MODEL = 'stories260K';

function admin(...args) {
  return execFileSync(bin, ['admin', ...args, '--data-dir', dataDir], { encoding: 'utf8' }).trim().split('\n').pop();
}

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-asst-'));
  admin('create-user', 'alice');
  admin('create-user', 'bob');
  const ka = admin('create-key', '--user', 'alice');
  const kb = admin('create-key', '--user', 'bob');
  server = await startServer(['--auth', '--data-dir', dataDir]);
  alice = new OpenAI({ baseURL: server.baseURL, apiKey: ka, maxRetries: 0 });
  bob = new OpenAI({ baseURL: server.baseURL, apiKey: kb, maxRetries: 0 });
});

after(async () => {
  assert.equal(await server.stop(), 0);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 8 } }, required: ['city'], additionalProperties: false },
  },
};

test('files: upload, list, retrieve, content, delete; another user gets 404', async () => {
  const bytes = Buffer.from('hello agora\n'.repeat(1000));
  const f = await alice.files.create({ file: await toFile(bytes, 'notes.txt'), purpose: 'assistants' });
  assert.equal(f.object, 'file');
  assert.equal(f.bytes, bytes.length);
  assert.equal(f.filename, 'notes.txt');
  const ids = [];
  for await (const x of alice.files.list({ purpose: 'assistants' })) ids.push(x.id);
  assert.ok(ids.includes(f.id));
  assert.equal((await alice.files.retrieve(f.id)).id, f.id);
  const content = await alice.files.content(f.id);
  assert.equal(Buffer.from(await content.arrayBuffer()).compare(bytes), 0);
  await assert.rejects(bob.files.retrieve(f.id), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(bob.files.del(f.id), (e) => e instanceof OpenAI.NotFoundError);
  assert.equal((await alice.files.del(f.id)).deleted, true);
  await assert.rejects(alice.files.retrieve(f.id), (e) => e instanceof OpenAI.NotFoundError);
});

test('assistants: CRUD and the auto-paginating iterator', async () => {
  const made = [];
  for (let i = 0; i < 5; i++) made.push(await alice.beta.assistants.create({ model: MODEL, name: `a${i}`, metadata: { i: String(i) } }));
  const seen = [];
  for await (const a of alice.beta.assistants.list({ limit: 2, order: 'asc' })) seen.push(a.id);
  for (const a of made) assert.ok(seen.includes(a.id));
  assert.ok(seen.indexOf(made[0].id) < seen.indexOf(made[4].id));
  const updated = await alice.beta.assistants.update(made[0].id, { instructions: 'Be terse.' });
  assert.equal(updated.instructions, 'Be terse.');
  assert.equal(updated.name, 'a0');
  assert.equal((await alice.beta.assistants.retrieve(made[0].id)).instructions, 'Be terse.');
  await assert.rejects(bob.beta.assistants.retrieve(made[0].id), (e) => e instanceof OpenAI.NotFoundError);
  const tooMuch = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
  await assert.rejects(alice.beta.assistants.create({ model: MODEL, metadata: tooMuch }), (e) => e instanceof OpenAI.BadRequestError);
  for (const a of made) assert.equal((await alice.beta.assistants.del(a.id)).deleted, true);
});

test('threads and messages; runs.createAndPoll to completion', async () => {
  const asst = await alice.beta.assistants.create({ model: MODEL, instructions: 'Tell a story.' });
  const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'Once upon a time' }] });
  const m = await alice.beta.threads.messages.create(thread.id, { role: 'user', content: [{ type: 'text', text: 'there was a cat' }] });
  assert.equal(m.content[0].text.value, 'there was a cat');
  const run = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: asst.id }, { pollIntervalMs: 50 });
  assert.equal(run.status, 'completed', JSON.stringify(run.last_error));
  assert.ok(run.usage.completion_tokens > 0);
  const msgs = await alice.beta.threads.messages.list(thread.id);
  assert.equal(msgs.data[0].role, 'assistant');
  assert.equal(msgs.data[0].run_id, run.id);
  const steps = await alice.beta.threads.runs.steps.list(thread.id, run.id);
  assert.equal(steps.data[0].type, 'message_creation');
  await assert.rejects(bob.beta.threads.retrieve(thread.id), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(bob.beta.threads.messages.list(thread.id), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(bob.beta.threads.runs.retrieve(thread.id, run.id), (e) => e instanceof OpenAI.NotFoundError);
  await assert.rejects(bob.beta.threads.runs.create(thread.id, { assistant_id: asst.id }), (e) => e instanceof OpenAI.NotFoundError);
});

test('function calling: runs.stream → requires_action → submitToolOutputsStream → completed', async () => {
  const asst = await alice.beta.assistants.create({ model: MODEL, tools: [weatherTool] });
  const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'Weather in Paris?' }] });
  const stream = alice.beta.threads.runs.stream(thread.id, {
    assistant_id: asst.id,
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
  });
  const events = [];
  stream.on('event', (e) => events.push(e.event));
  const paused = await stream.finalRun();
  assert.equal(paused.status, 'requires_action');
  assert.ok(events.includes('thread.run.created'));
  assert.ok(events.includes('thread.run.step.delta'));
  const calls = paused.required_action.submit_tool_outputs.tool_calls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.equal(typeof JSON.parse(calls[0].function.arguments).city, 'string');
  // The SDK assembled the tool call from the step deltas.
  const steps = await stream.finalRunSteps?.();
  if (steps) assert.equal(steps[0].step_details.tool_calls[0].function.arguments, calls[0].function.arguments);

  // A second run on the same thread is refused while this one is active.
  await assert.rejects(alice.beta.threads.runs.create(thread.id, { assistant_id: asst.id }),
    (e) => e instanceof OpenAI.BadRequestError && /already has an active run/.test(e.message));
  // Another user cannot submit.
  await assert.rejects(bob.beta.threads.runs.submitToolOutputs(thread.id, paused.id, { tool_outputs: [{ tool_call_id: calls[0].id, output: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError);

  const resumed = alice.beta.threads.runs.submitToolOutputsStream(thread.id, paused.id, {
    tool_outputs: [{ tool_call_id: calls[0].id, output: '{"sky":"clear","c":21}' }],
  });
  const done = await resumed.finalRun();
  assert.equal(done.status, 'completed', JSON.stringify(done.last_error));
  const all = await alice.beta.threads.runs.steps.list(thread.id, paused.id, { order: 'asc' });
  assert.equal(all.data[0].type, 'tool_calls');
  assert.equal(all.data[0].step_details.tool_calls[0].function.output, '{"sky":"clear","c":21}');
});

test('cancel a run waiting for tool outputs; cancelling a finished run is a 400', async () => {
  const asst = await alice.beta.assistants.create({ model: MODEL, tools: [weatherTool] });
  const thread = await alice.beta.threads.create({ messages: [{ role: 'user', content: 'Weather?' }] });
  const run = await alice.beta.threads.runs.createAndPoll(thread.id, { assistant_id: asst.id, tool_choice: 'required' }, { pollIntervalMs: 50 });
  assert.equal(run.status, 'requires_action');
  await assert.rejects(bob.beta.threads.runs.cancel(thread.id, run.id), (e) => e instanceof OpenAI.NotFoundError);
  const cancelled = await alice.beta.threads.runs.cancel(thread.id, run.id);
  assert.equal(cancelled.status, 'cancelled');
  await assert.rejects(alice.beta.threads.runs.cancel(thread.id, run.id), (e) => e instanceof OpenAI.BadRequestError);
});

test('kill -9 during a streaming run: after restart the run is failed, never left in_progress', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-asst-kill-'));
  try {
    let s = await startServer(['--no-auth', '--data-dir', dir]);
    let client = new OpenAI({ baseURL: s.baseURL, apiKey: 'x', maxRetries: 0 });
    const asst = await client.beta.assistants.create({ model: MODEL });
    const thread = await client.beta.threads.create({ messages: [{ role: 'user', content: 'Once upon a time' }] });
    const stream = client.beta.threads.runs.stream(thread.id, { assistant_id: asst.id });
    let runId = null;
    await new Promise((resolve) => {
      stream.on('event', (e) => {
        if (e.event === 'thread.run.created') runId = e.data.id;
        if (e.event === 'thread.message.delta') resolve();
      });
      stream.on('error', resolve);
      stream.on('end', resolve);
    });
    s.proc.kill('SIGKILL');
    await new Promise((r) => s.proc.on('exit', r));
    assert.ok(runId);
    s = await startServer(['--no-auth', '--data-dir', dir]);
    client = new OpenAI({ baseURL: s.baseURL, apiKey: 'x', maxRetries: 0 });
    const run = await client.beta.threads.runs.retrieve(thread.id, runId);
    assert.ok(['failed', 'completed'].includes(run.status), run.status);
    if (run.status === 'failed') assert.match(run.last_error.message, /restarted/);
    for (const m of (await client.beta.threads.messages.list(thread.id)).data) assert.notEqual(m.status, 'in_progress');
    for (const st of (await client.beta.threads.runs.steps.list(thread.id, runId)).data) assert.notEqual(st.status, 'in_progress');
    // The thread takes a new run.
    const again = await client.beta.threads.runs.createAndPoll(thread.id, { assistant_id: asst.id, max_completion_tokens: 4 }, { pollIntervalMs: 50 });
    assert.equal(again.status, 'incomplete');
    assert.equal(again.incomplete_details.reason, 'max_completion_tokens');
    assert.equal(await s.stop(), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('soak: 50 concurrent clients x 20 create-thread-and-run cycles, all runs terminal', { timeout: 300000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-asst-soak-'));
  try {
    const s = await startServer(['--no-auth', '--data-dir', dir]);
    const client = new OpenAI({ baseURL: s.baseURL, apiKey: 'x', maxRetries: 0 });
    const asst = await client.beta.assistants.create({ model: MODEL });
    const clients = Number(process.env.AGORA_SOAK_CLIENTS ?? 50), cycles = Number(process.env.AGORA_SOAK_CYCLES ?? 20);
    const statuses = {};
    const one = async () => {
      for (let i = 0; i < cycles; i++) {
        const run = await client.beta.threads.createAndRunPoll({
          assistant_id: asst.id, max_completion_tokens: 3,
          thread: { messages: [{ role: 'user', content: `hello ${i}` }] },
        }, { pollIntervalMs: 25 });
        statuses[run.status] = (statuses[run.status] ?? 0) + 1;
      }
    };
    // A stuck run would leave its poller waiting forever: fail with the count instead.
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`soak not finished after 240 s: ${JSON.stringify(statuses)}`)), 240000);
    });
    try {
      await Promise.race([Promise.all(Array.from({ length: clients }, one)), deadline]);
    } finally {
      clearTimeout(timer);
    }
    assert.deepEqual(Object.keys(statuses), ['incomplete'], JSON.stringify(statuses));
    assert.equal(statuses.incomplete, clients * cycles);
    assert.equal(await s.stop(), 0);
    const integrity = execFileSync('sqlite3', [path.join(dir, 'agora.db'), 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
    assert.equal(integrity, 'ok');
    const active = execFileSync('sqlite3', [path.join(dir, 'agora.db'),
      "SELECT count(*) FROM runs WHERE status IN ('queued','in_progress','cancelling')"], { encoding: 'utf8' }).trim();
    assert.equal(active, '0');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'files')).filter((f) => !f.startsWith('.')), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
