import { fileURLToPath } from 'node:url';
import { waitFor } from '../../../../test/harness/wait-for.js';
import { ProcessSpawner } from './process.spawner.js';

const stub = fileURLToPath(new URL('../../../../test/master-child/scripts/child-stub.mjs', import.meta.url));

function spawner(graceMs = 5_000) {
  return new ProcessSpawner({
    command: process.execPath,
    args: [stub],
    baseEnv: { BASE_ONLY: 'base', CHILD_COUNT: 'from-base' },
    graceMs,
  });
}

const children = {
  env: { id: 'c-env', env: { STUB_MODE: 'env', CHILD_COUNT: '25', ROLE: 'master' } },
  failing: { id: 'c-fail', env: { STUB_MODE: 'exit:3', STUB_STDERR: 'Error: cannot reach master\n' } },
  graceful: { id: 'c-graceful', env: { STUB_MODE: 'graceful' } },
  stubborn: { id: 'c-stubborn', env: { STUB_MODE: 'stubborn' } },
};

describe(ProcessSpawner.name, () => {
  it('starts the child with ROLE=child, its id and env over the base env, on a free HTTP port', async () => {
    const handle = await spawner().spawn(children.env);
    await expect(handle.wait()).resolves.toEqual({ exitCode: 0 });
    expect(JSON.parse(handle.stderrTail())).toMatchObject({
      ROLE: 'child',
      CHILD_ID: 'c-env',
      CHILD_COUNT: '25',
      BASE_ONLY: 'base',
      HTTP_PORT: '0',
    });
    expect(handle.ref).toMatch(/^\d+$/);
  });

  it('reports the exit code and the tail of stderr of a failed child', async () => {
    const handle = await spawner().spawn(children.failing);
    await expect(handle.wait()).resolves.toEqual({ exitCode: 3 });
    expect(handle.stderrTail()).toBe('Error: cannot reach master\n');
  });

  it('stops a child with SIGTERM and lets it finish', async () => {
    const handle = await spawner().spawn(children.graceful);
    await waitFor(() => handle.stderrTail().includes('ready'), 'the child to start');
    await handle.stop();
    await expect(handle.wait()).resolves.toEqual({ exitCode: 0 });
    expect(handle.stderrTail()).toContain('reporting what I have');
  });

  it('kills a child that ignores SIGTERM once the grace period is over', async () => {
    const handle = await spawner(200).spawn(children.stubborn);
    await waitFor(() => handle.stderrTail().includes('ready'), 'the child to start');
    await handle.stop();
    await expect(handle.wait()).resolves.toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect(handle.stderrTail()).toContain('ignoring SIGTERM');
  });

  it('fails to spawn with a clear error when the command does not exist', async () => {
    const broken = new ProcessSpawner({ command: '/nonexistent/node', args: [], graceMs: 100 });
    await expect(broken.spawn(children.env)).rejects.toMatchObject({
      name: 'SpawnError',
      status: 502,
      message: expect.stringContaining(
        'could not start child c-env (/nonexistent/node): spawn /nonexistent/node ENOENT',
      ),
    });
  });

  it('does nothing when asked to stop a child that has already ended', async () => {
    const handle = await spawner().spawn(children.failing);
    await handle.wait();
    await expect(handle.stop()).resolves.toBeUndefined();
  });
});
