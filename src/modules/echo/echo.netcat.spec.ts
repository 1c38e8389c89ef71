// The seed's exercise 3 in local mode: docker/netcat-test.sh drives the host's nc against an echo server.
// When nc is missing and we run as root (CI, these machines), netcat-openbsd is installed with apt-get first.
import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { EchoServer } from './echo.server.js';
import { recordingLogger } from '../../../test/echo/echo.fixtures.js';

const run = promisify(execFile);
const SCRIPT = 'docker/netcat-test.sh';

async function ensureNetcat(): Promise<void> {
  const present = await run('sh', ['-c', 'command -v nc']).then(
    () => true,
    () => false,
  );
  if (present) return;
  if (process.getuid?.() !== 0) {
    throw new Error(
      'nc is missing and this is not root: install netcat-openbsd (apt-get install -y netcat-openbsd)',
    );
  }
  const aptGet = (...args: string[]): Promise<unknown> =>
    run('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', '-qq', ...args]);
  // A fresh machine may have no package lists yet.
  await aptGet('install', '-y', 'netcat-openbsd').catch(async () => {
    await aptGet('update');
    await aptGet('install', '-y', 'netcat-openbsd');
  });
}

async function netcatTest(port: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('bash', [SCRIPT, 'local', '127.0.0.1', String(port)]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

describe('docker/netcat-test.sh local', () => {
  beforeAll(() => ensureNetcat(), 180_000);

  it('gets the line it sent back from the echo server', async () => {
    const server = new EchoServer({ port: 0, host: '127.0.0.1' }, recordingLogger());
    const port = await server.listen();
    try {
      const result = await netcatTest(port);
      expect(result).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^OK: echo-server answered "netcat check /),
      });
      expect(server.stats().linesEchoed).toBe(1);
    } finally {
      await server.close(1000);
    }
  });

  it('fails when the reply is not the line it sent', async () => {
    // Answers like the seed's server did; resume() reads the peer's FIN so close() is not held up.
    const impostor = createServer((socket) => socket.resume().end('Your Message has been received\n'));
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    try {
      const result = await netcatTest((impostor.address() as AddressInfo).port);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^FAIL: sent "netcat check .*", got "Your Message has been received"/);
    } finally {
      await new Promise((resolve) => impostor.close(resolve));
    }
  });
});
