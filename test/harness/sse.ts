// A small Server-Sent Events reader over node:http for tests.
import { get, type ClientRequest } from 'node:http';

export interface SseEvent {
  event: string;
  data: unknown;
}

export interface SseReader {
  connected: Promise<void>;
  take(n: number, timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

export function readEvents(url: string, headers: Record<string, string> = {}): SseReader {
  const events: SseEvent[] = [];
  let wake: (() => void) | undefined;
  let req: ClientRequest;
  const connected = new Promise<void>((resolve, reject) => {
    req = get(url, { headers: { ...headers, accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`SSE ${url} answered ${res.statusCode}`));
      resolve();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let idx: number;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length === 0) continue;
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // plain text data
          }
          events.push({ event, data: parsed });
          wake?.();
        }
      });
    });
    req.on('error', reject);
  });
  return {
    connected,
    async take(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n) {
        if (Date.now() > deadline)
          throw new Error(`only ${events.length} of ${n} SSE events in ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
      return events.splice(0, n);
    },
    close() {
      req.destroy();
    },
  };
}
