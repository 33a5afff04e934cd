// A minimal syntax highlighter: one tokenizing pass (comments, strings, numbers, keywords) that
// returns text segments with a class. The caller builds DOM nodes from them, never HTML.

export type Seg = [cls: string, text: string];

const KW_COMMON = 'if else for while do return break continue switch case default try catch finally throw new delete in of true false null class struct enum public private protected static const import export from as async await yield';
const KW: Record<string, string> = {
  js: KW_COMMON + ' function var let this typeof instanceof undefined extends super void',
  ts: KW_COMMON + ' function var let this typeof instanceof undefined extends super void interface type implements readonly keyof any unknown never string number boolean',
  py: 'def class return if elif else for while in not and or is None True False import from as with try except finally raise lambda yield pass break continue global nonlocal async await self',
  c: KW_COMMON + ' int char float double void long short unsigned signed auto struct union typedef sizeof goto extern register volatile inline bool nullptr template typename namespace using virtual override constexpr noexcept std',
  rust: 'fn let mut const static if else match for while loop return break continue struct enum impl trait pub use mod crate self Self super where as in ref move async await dyn true false Some None Ok Err',
  go: 'func var const type struct interface map chan go defer select if else for range return break continue switch case default package import nil true false',
  sh: 'if then else elif fi for while do done case esac in function return export local echo set unset',
  sql: 'select from where insert into values update set delete create table index drop alter join left right inner outer on group by order having limit and or not null primary key',
};
const ALIAS: Record<string, string> = {
  javascript: 'js', jsx: 'js', mjs: 'js', typescript: 'ts', tsx: 'ts', python: 'py', cpp: 'c', 'c++': 'c', cc: 'c', h: 'c', hpp: 'c',
  java: 'c', cs: 'c', csharp: 'c', rs: 'rust', golang: 'go', bash: 'sh', shell: 'sh', zsh: 'sh', console: 'sh',
};
const HASH_COMMENTS = new Set(['py', 'sh', 'rb', 'ruby', 'yaml', 'yml', 'toml', 'r', 'perl', 'make', 'makefile', 'dockerfile', 'conf', 'ini']);
const kwCache = new Map<string, Set<string>>();

export function highlight(code: string, lang: string): Seg[] {
  const l = (lang || '').toLowerCase();
  const key = ALIAS[l] || l;
  if (key === 'text' || key === 'plain' || key === 'txt' || code.length > 200_000) return [['', code]];
  let kws = kwCache.get(key);
  if (!kws) {
    kws = new Set((KW[key] || KW.ts + ' ' + KW.py).split(' '));
    kwCache.set(key, kws);
  }
  const hash = HASH_COMMENTS.has(key) || HASH_COMMENTS.has(l);
  const ci = key === 'sql';
  const comment = hash ? '#[^\\n]*' : key === 'sql' ? '--[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$)' : '\\/\\/[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$)|<!--[\\s\\S]*?(?:-->|$)';
  const strings = (hash ? '"""[\\s\\S]*?(?:"""|$)|\'\'\'[\\s\\S]*?(?:\'\'\'|$)|' : '') + '"(?:\\\\.|[^"\\\\\\n])*"?|\'(?:\\\\.|[^\'\\\\\\n])*\'?' + (hash ? '' : '|`(?:\\\\.|[^`\\\\])*`?');
  const re = new RegExp(`(${comment})|(${strings})|(\\b\\d[\\d_]*(?:\\.\\d+)?(?:[eE][+-]?\\d+)?\\b|\\b0x[\\da-fA-F]+\\b)|([A-Za-z_$][\\w$]*)`, 'g');
  const out: Seg[] = [];
  let last = 0;
  const push = (cls: string, s: string) => {
    if (!s) return;
    const prev = out[out.length - 1];
    if (prev && prev[0] === cls) prev[1] += s; else out.push([cls, s]);
  };
  for (let m: RegExpExecArray | null; (m = re.exec(code)); ) {
    if (m.index > last) push('', code.slice(last, m.index));
    const [all, com, str, num, word] = m;
    if (com !== undefined) {
      push('hl-c', all);
    } else if (str !== undefined) push('hl-s', all);
    else if (num !== undefined) push('hl-n', all);
    else if (word !== undefined) push(kws.has(ci ? word.toLowerCase() : word) ? 'hl-k' : /^[A-Z][a-z]/.test(word) ? 'hl-t' : '', all);
    last = m.index + all.length;
    if (all.length === 0) re.lastIndex++;
  }
  if (last < code.length) push('', code.slice(last));
  return out;
}
