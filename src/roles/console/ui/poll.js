// Polling a console API path every 2 s, never overlapping, until the component leaves or the path changes.
import { useEffect, useState } from 'preact/hooks';

const POLL_MS = 2000;

export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

const EMPTY = { data: null, error: null, at: 0 };

export function usePoll(path) {
  const [state, setState] = useState({ ...EMPTY, path });
  useEffect(() => {
    let stopped = false;
    let timer;
    const tick = async () => {
      try {
        const data = await getJson(path);
        if (!stopped) setState({ data, error: null, at: Date.now(), path });
      } catch (e) {
        if (!stopped)
          setState((s) => ({ ...(s.path === path ? s : EMPTY), error: String(e.message ?? e), path }));
      }
      if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path]);
  // Another path's answer never stands for this one's while it loads, not even for the render before the effect.
  return state.path === path ? state : EMPTY;
}
