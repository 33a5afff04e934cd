// Starts a real `agora serve` on a free loopback port and stops it (SIGTERM, expecting exit 0).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const testdata = process.env.AGORA_TESTDATA ?? path.resolve(root, '../shared/testdata');
export const bin = process.env.AGORA_BIN ?? path.join(root, 'build', process.env.AGORA_PRESET ?? 'release', 'agora');

// Servers still running when the test process ends (a test that timed out or threw before its
// stop()) are killed with it, so they never keep the runner, or CI, waiting.
const running = new Set();
process.on('exit', () => { for (const p of running) p.kill('SIGKILL'); });

export async function startServer(extraArgs = []) {
  const args = ['serve', '--port', '0', '--threads', '1',
    '--model', path.join(testdata, 'models/rand-qwen2.gguf'),
    '--model', path.join(testdata, 'models/stories260K.gguf'), ...extraArgs];
  // A fresh data directory per server unless the test brings one (one server per directory).
  let dataDir = null;
  if (!extraArgs.includes('--data-dir')) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-compat-'));
    args.push('--data-dir', dataDir);
  }
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('agora serve did not start:\n' + log)), 30000);
    proc.stderr.on('data', (d) => {
      log += d.toString();
      const m = log.match(/listening on http:\/\/[^:]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`agora serve exited ${code}:\n${log}`)); });
  });
  proc.stderr.removeAllListeners('data');
  proc.stderr.on('data', () => {});
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    port,
    proc,
    dataDir,
    baseURL: `http://127.0.0.1:${port}/v1`,
    async stop() {
      proc.kill('SIGTERM');
      const code = await exited;
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
