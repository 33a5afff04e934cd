// The initial page (HTML + the JS and CSS it loads) stays within 100 KB gzipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DIST } from './helpers.mjs';

test('initial page ≤ 100 KB gzipped', () => {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  assert.ok(refs.some((r) => r.endsWith('.js')), 'index.html loads a script');
  const assert_no_inline = /<script(?![^>]*\bsrc=)[^>]*>/.test(html);
  assert.equal(assert_no_inline, false, 'no inline script (the CSP forbids it)');
  let raw = Buffer.byteLength(html), gz = zlib.gzipSync(html, { level: 9 }).length;
  for (const r of refs) {
    const buf = fs.readFileSync(path.join(DIST, r));
    raw += buf.length; gz += zlib.gzipSync(buf, { level: 9 }).length;
  }
  console.log(`# initial page: ${refs.length + 1} files, ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzipped`);
  assert.ok(gz <= 100 * 1024, `${gz} bytes gzipped`);
});
