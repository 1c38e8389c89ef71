import { waitFor } from '../../../test/harness/wait-for.js';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSender, type WebhookLog } from './webhook.sender.js';

const quiet: WebhookLog = { info: () => {}, warn: () => {}, error: () => {} };
const notice = { type: 'ClientWatched', clientIp: '10.0.0.1' };

/** A real HTTP receiver answering with the given statuses in turn (the last one repeats). */
async function receiver(statuses: number[]) {
  const bodies: unknown[] = [];
  let calls = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      bodies.push(JSON.parse(data));
      res.statusCode = statuses[Math.min(calls++, statuses.length - 1)];
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, bodies, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe(WebhookSender.name, () => {
  it('posts the notification as JSON', async () => {
    const hook = await receiver([204]);
    const sender = new WebhookSender({ url: hook.url, log: quiet });
    sender.send(notice);
    await waitFor(() => sender.delivered === 1, 'one delivery');
    expect(hook.bodies).toEqual([notice]);
    await hook.close();
  });

  it('retries a failed delivery with growing delays until it succeeds', async () => {
    const hook = await receiver([500, 503, 200]);
    const delays: number[] = [];
    const sender = new WebhookSender({
      url: hook.url,
      log: quiet,
      retry: { attempts: 5, initialMs: 10, maxMs: 15 },
      jitter: () => 1, // the top of each jittered wait: the ceilings themselves
      scheduler: {
        schedule: (ms, fn) => {
          delays.push(ms);
          const t = setTimeout(fn, 1);
          return () => clearTimeout(t);
        },
      },
    });
    sender.send(notice);
    await waitFor(() => sender.delivered === 1, 'one delivery');
    expect({ posts: hook.bodies.length, delays }).toEqual({ posts: 3, delays: [10, 15] });
    await hook.close();
  });

  it('gives up after the last attempt and counts the failure', async () => {
    const hook = await receiver([500]);
    const sender = new WebhookSender({
      url: hook.url,
      log: quiet,
      retry: { attempts: 2, initialMs: 1, maxMs: 1 },
    });
    sender.send(notice);
    await waitFor(() => sender.failed === 1, 'one failed delivery');
    expect(hook.bodies).toHaveLength(2);
    await hook.close();
  });

  it('returns before the receiver answers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sender = new WebhookSender({
      url: 'http://127.0.0.1:9/never',
      log: quiet,
      fetch: (async () => {
        await gate;
        return new Response(null, { status: 200 });
      }) as typeof fetch,
    });
    sender.send(notice);
    expect(sender.pendingCount).toBe(1);
    release();
    await waitFor(() => sender.delivered === 1, 'one delivery');
  });

  it('stops retrying at close and reports what was left undelivered', async () => {
    // close() comes once the first attempt has failed and the delivery waits out its backoff: ordered by that
    // wait being scheduled, not by sleeping.
    let backingOff!: () => void;
    const inBackoff = new Promise<void>((resolve) => (backingOff = resolve));
    const sender = new WebhookSender({
      url: 'http://127.0.0.1:9/down',
      log: quiet,
      retry: { attempts: 10, initialMs: 60_000, maxMs: 60_000 },
      fetch: (async () => {
        throw new Error('connection refused');
      }) as typeof fetch,
      scheduler: {
        schedule: (ms, fn) => {
          backingOff();
          const t = setTimeout(fn, ms);
          return () => clearTimeout(t);
        },
      },
    });
    sender.send(notice);
    await inBackoff;
    expect(sender.pendingCount).toBe(1);
    expect(await sender.close(20)).toEqual({ undelivered: 1 });
    await waitFor(() => sender.pendingCount === 0, 'nothing pending');
    expect(sender.failed).toBe(1);
  });
});
