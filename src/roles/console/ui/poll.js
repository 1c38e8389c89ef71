// Polling a console API path every 2 s, never overlapping, until the component leaves or the path changes.
import { useEffect, useState } from 'preact/hooks';

const POLL_MS = 2000;

export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

export function usePoll(path) {
  const [state, setState] = useState({ data: null, error: null, at: 0 });
  useEffect(() => {
    // Another path's answer must not stand for this one's while it loads.
    setState({ data: null, error: null, at: 0 });
    let stopped = false;
    let timer;
    const tick = async () => {
      try {
        const data = await getJson(path);
        if (!stopped) setState({ data, error: null, at: Date.now() });
      } catch (e) {
        if (!stopped) setState((s) => ({ ...s, error: String(e.message ?? e) }));
      }
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path]);
  return state;
}
