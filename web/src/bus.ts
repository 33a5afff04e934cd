// A tiny topic bus: state lives in plain objects (store.ts); a change emits its topic and only
// the components subscribed to that topic re-render. Streaming a token emits `msg:<key>`, so only
// the one message being written re-renders, never the conversation or the sidebar.
import { useLayoutEffect, useReducer, useRef } from 'preact/hooks';

const subs = new Map<string, Set<() => void>>();
const versions = new Map<string, number>();

export function emit(topic: string) {
  versions.set(topic, (versions.get(topic) || 0) + 1);
  const s = subs.get(topic);
  if (s) for (const fn of [...s]) fn();
}

export function subscribe(topic: string, fn: () => void): () => void {
  let s = subs.get(topic);
  if (!s) subs.set(topic, (s = new Set()));
  s.add(fn);
  return () => { s!.delete(fn); if (!s!.size) subs.delete(topic); };
}

const stamp = (topics: string[]) => topics.map((t) => versions.get(t) || 0).join(',');

export function useTopic(...topics: string[]) {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const key = topics.join('\u0000');
  const seen = useRef('');
  seen.current = stamp(topics); // what this render saw
  useLayoutEffect(() => {
    const offs = topics.map((t) => subscribe(t, bump as () => void));
    // A change emitted between this render and the subscription must not be lost.
    if (stamp(topics) !== seen.current) (bump as () => void)();
    return () => offs.forEach((off) => off());
  }, [key]);
}
