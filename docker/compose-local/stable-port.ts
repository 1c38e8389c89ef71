// Free loopback ports for ports bound long after they are chosen, and bound again after a restart: a role's listeners
// under compose:local, a container's published port. Chosen below the kernel's ephemeral range, where no outgoing
// connection takes them meanwhile (a port from listen(0) may become any connection's local port, and the later bind
// then fails with EADDRINUSE for as long as that connection lives).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** The kernel's range for outgoing connections' local ports (where listen(0) draws from too). */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // not Linux: the IANA range
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();

/**
 * A free loopback port below the ephemeral range, for a port that is bound long after it is chosen (a container's
 * published port, bound once its images are built): a port from the ephemeral range may meanwhile become the local
 * port of any outgoing connection on the machine, and the later bind fails.
 */
export async function freeStablePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  const span = Math.max(1, low - floor);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = floor + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.unref();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${floor} and ${low}`);
}
