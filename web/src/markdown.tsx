// Safe streaming Markdown. The text is parsed into top-level blocks; each block becomes Preact
// vnodes (DOM nodes built by Preact from text — there is no innerHTML anywhere). Raw HTML in the
// source is shown as text. Links keep only http(s) and mailto URLs and open in a new tab without a
// referrer. Images are never loaded: `![alt](url)` renders as a plain link labelled with the alt
// text, so model output cannot make the browser fetch anything (see RELIABILITY.md test 20).
//
// While a reply streams, only the last block's source changes; blocks are memoized on their
// source, so a token re-renders one block, not the message.
import { memo } from 'preact/compat';
import type { ComponentChildren, VNode } from 'preact';
import { useState } from 'preact/hooks';
import { highlight } from './highlight';

export interface Block { kind: 'code' | 'other'; src: string; lang?: string; open?: boolean }

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;

// Splits Markdown into top-level blocks: fenced code blocks, and runs of lines separated by blank
// lines (list items and tables stay together with their continuation lines).
export function splitBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  let buf: string[] = [];
  const flush = () => { if (buf.length) { out.push({ kind: 'other', src: buf.join('\n') }); buf = []; } };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const f = FENCE.exec(line);
    if (f) {
      flush();
      const fence = f[1];
      const body: string[] = [];
      let j = i + 1, closed = false;
      for (; j < lines.length; j++) {
        const l = lines[j];
        if (l.trim().startsWith(fence[0].repeat(fence.length)) && l.trim().replace(new RegExp('^\\' + fence[0] + '+'), '').trim() === '') { closed = true; break; }
        body.push(l);
      }
      out.push({ kind: 'code', src: body.join('\n'), lang: f[2], open: !closed });
      i = j;
      continue;
    }
    if (line.trim() === '') {
      // A blank line ends a block unless the next line continues a list (indented or a new item).
      const next = lines[i + 1];
      if (buf.length && next !== undefined && isListLine(buf[0]) && (/^\s{2,}\S/.test(next) || isListLine(next))) { buf.push(line); continue; }
      flush();
      continue;
    }
    buf.push(line);
  }
  flush();
  return out;
}

const LIST_RE = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const isListLine = (l: string) => LIST_RE.test(l) && !/^\s*([-*_])(\s*\1){2,}\s*$/.test(l);
const HR_RE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const TABLE_SEP = /^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$/;

// ---------- inline ----------
export function safeUrl(raw: string): string | null {
  const u = raw.trim().replace(/^<|>$/g, '');
  if (/^(https?:\/\/|mailto:)/i.test(u) && !/[\u0000-\u001f\s]/.test(u)) return u;
  return null;
}

function link(href: string, children: ComponentChildren, key: number): VNode {
  return <a key={key} href={href} target="_blank" rel="noopener noreferrer nofollow ugc" referrerpolicy="no-referrer">{children}</a>;
}

const INLINE_RE = /(\\[\\`*_{}\[\]()#+\-.!|~<>])|(`+)([\s\S]*?[^`])\2(?!`)|(!?)\[((?:\\.|[^\]\\])*)\]\(\s*(<[^>]*>|[^\s)]*)(?:\s+"[^"]*")?\s*\)|(\*\*|__)(?=\S)([\s\S]*?\S)\7|(\*|_)(?=\S)([\s\S]*?\S)\9(?![\w*])|~~(?=\S)([\s\S]*?\S)~~|<(https?:\/\/[^\s>]+)>|(https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"*_])|(\n)/g;

export function inline(src: string, depth = 0): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let last = 0, k = 0;
  if (depth > 8) return [src];
  INLINE_RE.lastIndex = 0;
  const re = new RegExp(INLINE_RE.source, 'g');
  for (let m: RegExpExecArray | null; (m = re.exec(src)); ) {
    if (m.index > last) out.push(src.slice(last, m.index));
    last = m.index + m[0].length;
    const [all, esc, , code, bang, label, url, strong, strongBody, , emBody, del, auto, bare, nl] = m;
    if (esc) out.push(esc[1]);
    else if (code !== undefined) out.push(<code key={k++}>{code.replace(/^ (.*) $/, '$1')}</code>);
    else if (label !== undefined && url !== undefined) {
      const href = safeUrl(url);
      if (bang) {
        // Never load images from model output: show a link the user may choose to open.
        const text = `[image: ${label || 'untitled'}]`;
        out.push(href ? link(href, text, k++) : text);
      } else if (href) out.push(link(href, inline(label, depth + 1), k++));
      else out.push(...inline(label, depth + 1));
    } else if (strong) out.push(<strong key={k++}>{inline(strongBody, depth + 1)}</strong>);
    else if (emBody !== undefined) out.push(<em key={k++}>{inline(emBody, depth + 1)}</em>);
    else if (del !== undefined) out.push(<del key={k++}>{inline(del, depth + 1)}</del>);
    else if (auto) out.push(link(auto, auto, k++));
    else if (bare) out.push(link(bare, bare, k++));
    else if (nl) out.push(<br key={k++} />);
    else out.push(all);
  }
  if (last < src.length) out.push(src.slice(last));
  return out;
}

// ---------- blocks ----------
function CodeBlock({ code, lang }: { code: string; lang: string }) {
  const [copied, setCopied] = useState(false);
  const segs = highlight(code, lang);
  return (
    <div class="code">
      <div class="code-head">
        <span class="code-lang">{lang || 'code'}</span>
        <button type="button" class="copy" data-testid="copy-code" onClick={() => copyText(code).then(() => { setCopied(true); setTimeout(() => setCopied(false), 1200); })}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre><code>{segs.map(([cls, t], i) => (cls ? <span key={i} class={cls}>{t}</span> : t))}</code></pre>
    </div>
  );
}

export async function copyText(text: string) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text; document.body.appendChild(ta); ta.select();
    try { document.execCommand('copy'); } finally { ta.remove(); }
  }
}

function splitRow(line: string): string[] {
  let s = line.trim();
  if (s.startsWith('|')) s = s.slice(1);
  if (s.endsWith('|') && !s.endsWith('\\|')) s = s.slice(0, -1);
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === '|') { cur += '|'; i++; }
    else if (s[i] === '|') { cells.push(cur.trim()); cur = ''; }
    else cur += s[i];
  }
  cells.push(cur.trim());
  return cells;
}

// Renders one run of lines (a top-level "other" block, or the inside of a list item / quote).
export function renderLines(lines: string[], depth = 0): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let i = 0, k = 0;
  let para: string[] = [];
  const flushPara = () => {
    if (para.length) { out.push(<p key={k++}>{inline(para.join('\n').trim(), 0)}</p>); para = []; }
  };
  if (depth > 12) return [lines.join('\n')];
  while (i < lines.length) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if (line.trim() === '') { flushPara(); i++; continue; }
    if ((m = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line))) {
      flushPara();
      const H = ('h' + m[1].length) as 'h1';
      out.push(<H key={k++}>{inline(m[2])}</H>);
      i++; continue;
    }
    if (HR_RE.test(line) && !(para.length && /^\s*-+\s*$/.test(line))) { flushPara(); out.push(<hr key={k++} />); i++; continue; }
    if (/^ {0,3}>/.test(line)) {
      flushPara();
      const q: string[] = [];
      while (i < lines.length && /^ {0,3}>/.test(lines[i])) q.push(lines[i++].replace(/^ {0,3}> ?/, ''));
      out.push(<blockquote key={k++}>{renderLines(q, depth + 1)}</blockquote>);
      continue;
    }
    if (line.includes('|') && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes('-')) {
      flushPara();
      const head = splitRow(line);
      const aligns = splitRow(lines[i + 1]).map((c) => (c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : c.startsWith(':') ? 'left' : undefined));
      i += 2;
      const rows: string[][] = [];
      while (i < lines.length && lines[i].includes('|') && lines[i].trim() !== '') rows.push(splitRow(lines[i++]));
      out.push(
        <div class="table-wrap" key={k++}><table>
          <thead><tr>{head.map((c, j) => <th key={j} class={aligns[j] ? 'al-' + aligns[j] : undefined}>{inline(c)}</th>)}</tr></thead>
          <tbody>{rows.map((r, ri) => <tr key={ri}>{head.map((_, j) => <td key={j} class={aligns[j] ? 'al-' + aligns[j] : undefined}>{inline(r[j] || '')}</td>)}</tr>)}</tbody>
        </table></div>,
      );
      continue;
    }
    if ((m = LIST_RE.exec(line)) && isListLine(line)) {
      flushPara();
      const indent = m[1].length;
      const ordered = /\d/.test(m[2]);
      const start = ordered ? parseInt(m[2], 10) : 1;
      const items: string[][] = [];
      while (i < lines.length) {
        const l = lines[i];
        const lm = LIST_RE.exec(l);
        if (lm && lm[1].length <= indent + 1 && isListLine(l) && /\d/.test(lm[2]) === ordered) {
          items.push([lm[3]]); i++; continue;
        }
        if (l.trim() === '') {
          const nx = lines[i + 1];
          if (nx !== undefined && (/^\s+\S/.test(nx) && (nx.length - nx.trimStart().length) > indent || (LIST_RE.test(nx) && (LIST_RE.exec(nx)![1].length) <= indent + 1 && /\d/.test(LIST_RE.exec(nx)![2]) === ordered))) { items[items.length - 1].push(''); i++; continue; }
          break;
        }
        const ind = l.length - l.trimStart().length;
        if (ind > indent) { items[items.length - 1].push(l.slice(Math.min(ind, indent + (lm ? lm[1].length - indent : 0) + 2 + (ordered ? 1 : 0)))); i++; continue; }
        if (!lm && !HR_RE.test(l) && !/^ {0,3}(#|>)/.test(l)) { items[items.length - 1].push(l); i++; continue; } // lazy continuation
        break;
      }
      const lis = items.map((it, j) => {
        const nested = it.slice(1).some((l) => isListLine(l.trimStart() === l ? l : l.replace(/^\s+/, ''))) || it.some((l) => l === '');
        const body = nested ? renderLines(it.map((l) => l.replace(/^\s{0,4}/, '')), depth + 1) : inline(it.join('\n'));
        return <li key={j}>{body}</li>;
      });
      out.push(ordered ? <ol key={k++} start={start !== 1 ? start : undefined}>{lis}</ol> : <ul key={k++}>{lis}</ul>);
      continue;
    }
    para.push(line);
    i++;
  }
  flushPara();
  return out;
}

const BlockView = memo(function BlockView({ b }: { b: Block }) {
  if (b.kind === 'code') return <CodeBlock code={b.src} lang={b.lang || ''} />;
  return <>{renderLines(b.src.split('\n'))}</>;
}, (a, b) => a.b.src === b.b.src && a.b.kind === b.b.kind && a.b.lang === b.b.lang);

export function Markdown({ text }: { text: string }) {
  const blocks = splitBlocks(text);
  return <>{blocks.map((b, i) => <BlockView key={i} b={b} />)}</>;
}
