// Free loopback ports for test processes.
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

// A port bound long after it is chosen comes from below the kernel's ephemeral range (compose:local's allocator).
export { freeStablePort } from '../../docker/compose-local/stable-port.js';
