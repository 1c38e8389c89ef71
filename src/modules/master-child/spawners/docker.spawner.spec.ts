import { FakeDockerEngine } from '../../../../test/master-child/fake-docker-engine.js';
import { waitFor } from '../../../../test/harness/wait-for.js';
import { DockerSpawner, type DockerSpawnerOptions, LogDemuxer } from './docker.spawner.js';
import { dockerEndpoint } from './http.util.js';

const image = 'polyrole:test';
const children = {
  first: { id: 'c1', env: { CHILD_COUNT: '10', MASTER_ADDR: 'master:4000' } },
};

describe(DockerSpawner.name, () => {
  let engine: FakeDockerEngine;

  beforeEach(async () => {
    engine = await new FakeDockerEngine().start();
    engine.images.add(image);
  });
  afterEach(async () => {
    await engine.close();
  });

  function spawner(extra: Partial<DockerSpawnerOptions> = {}) {
    return new DockerSpawner({
      dockerHost: engine.dockerHost,
      image,
      network: 'polyrole_default',
      masterName: 'master-a',
      stopGraceMs: 10_000,
      baseEnv: { LOG_LEVEL: 'info' },
      ...extra,
    });
  }

  it('creates the container with the image, ROLE=child env, network, labels and auto-remove', async () => {
    await spawner().spawn(children.first);
    const create = engine.requests[0];
    expect(create.method).toBe('POST');
    expect(create.path).toBe('/containers/create?name=polyrole-child-c1');
    expect(create.headers['content-type']).toBe('application/json');
    expect(create.body).toEqual({
      Image: image,
      Env: ['LOG_LEVEL=info', 'CHILD_COUNT=10', 'MASTER_ADDR=master:4000', 'ROLE=child', 'CHILD_ID=c1'],
      Labels: { 'polyrole.master': 'master-a', 'polyrole.role': 'child', 'polyrole.child-id': 'c1' },
      HostConfig: { AutoRemove: true, NetworkMode: 'polyrole_default' },
    });
  });

  it("binds the child's certificate directory read-only where its certificate settings point", async () => {
    await spawner({ childBind: { source: '/srv/polyrole/certs/child', target: '/app/tls' } }).spawn(
      children.first,
    );
    expect(engine.requests[0].body.HostConfig.Binds).toEqual(['/srv/polyrole/certs/child:/app/tls:ro']);
  });

  it('registers the wait before starting, so a quick exit is not missed', async () => {
    await spawner().spawn(children.first);
    const id = engine.only().id;
    await waitFor(() => engine.requests.length >= 4, 'the logs request');
    expect(engine.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /containers/create?name=polyrole-child-c1',
      `POST /containers/${id}/wait?condition=next-exit`,
      `POST /containers/${id}/start`,
      `GET /containers/${id}/logs?follow=1&stdout=0&stderr=1`,
    ]);
  });

  it('reports the exit code and the stderr tail of a container', async () => {
    const handle = await spawner().spawn(children.first);
    const id = engine.only().id;
    expect(handle.ref).toBe(id);
    await waitFor(() => engine.requests.some((r) => r.path.includes('/logs')), 'the logs request');
    engine.writeStderr(id, 'Error: master unreachable\n');
    await waitFor(() => handle.stderrTail() !== '', 'the stderr tail');
    engine.exit(id, 3);
    await expect(handle.wait()).resolves.toEqual({ exitCode: 3 });
    expect(handle.stderrTail()).toBe('Error: master unreachable\n');
  });

  it('stops a container through the API with the grace period in seconds', async () => {
    engine.stopExitCode = 143;
    const handle = await spawner({ stopGraceMs: 2500 }).spawn(children.first);
    const id = engine.only().id;
    await handle.stop();
    expect(engine.requests.at(-1)).toMatchObject({ method: 'POST', path: `/containers/${id}/stop?t=3` });
    await expect(handle.wait()).resolves.toEqual({ exitCode: 143 });
  });

  it('treats stopping a container that is already gone as done', async () => {
    const handle = await spawner().spawn(children.first);
    engine.exit(engine.only().id, 0);
    await expect(handle.stop()).resolves.toBeUndefined();
  });

  it('fails with a clear error when the image is missing, without starting anything', async () => {
    await expect(spawner({ image: 'missing:1' }).spawn(children.first)).rejects.toMatchObject({
      name: 'SpawnError',
      code: 'image_not_found',
      message: 'image missing:1 is not on the Docker host (pull or build it first): No such image: missing:1',
    });
    expect(engine.requests.map((r) => r.method)).toEqual(['POST']);
  });

  it('fails with a conflict error when the container name is taken', async () => {
    await spawner().spawn(children.first);
    await expect(spawner().spawn(children.first)).rejects.toMatchObject({
      code: 'spawn_conflict',
      message: expect.stringContaining('409 conflict'),
    });
  });

  it('removes the container and fails when the Engine cannot start it', async () => {
    engine.failures.set('start', { status: 500, message: 'network polyrole_default not found' });
    await expect(spawner().spawn(children.first)).rejects.toMatchObject({
      code: 'spawn_failed',
      message: 'Docker answered 500 when asked to start child c1: network polyrole_default not found',
    });
    const id = engine.requests[1].path.split('/')[2];
    expect(engine.requests.at(-1)).toMatchObject({ method: 'DELETE', path: `/containers/${id}?force=true` });
    expect(engine.containers.size).toBe(0);
  });

  it('fails with a clear error when the Engine cannot be reached', async () => {
    const nowhere = spawner({ dockerHost: 'unix:///nonexistent/docker.sock' });
    await expect(nowhere.spawn(children.first)).rejects.toMatchObject({
      code: 'docker_unreachable',
      message:
        'cannot reach the Docker Engine at unix:///nonexistent/docker.sock to create child c1 (ENOENT)',
    });
  });

  it('prefixes paths with a pinned API version', async () => {
    await spawner({ apiVersion: '1.43' }).spawn(children.first);
    expect(engine.requests[0].url).toBe('/v1.43/containers/create?name=polyrole-child-c1');
  });
});

describe('dockerEndpoint', () => {
  it('reads unix and tcp DOCKER_HOST values', () => {
    expect(dockerEndpoint('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerEndpoint('tcp://docker:2375')).toEqual({ baseUrl: 'http://docker:2375' });
  });
});

describe(LogDemuxer.name, () => {
  it('reassembles frames split across chunks and keeps their stream', () => {
    const frames: [number, string][] = [];
    const demux = new LogDemuxer((stream, payload) => frames.push([stream, payload.toString()]));
    const frame = (stream: number, text: string) => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    const all = Buffer.concat([frame(1, 'out'), frame(2, 'err line')]);
    demux.push(all.subarray(0, 5));
    demux.push(all.subarray(5, 14));
    demux.push(all.subarray(14));
    expect(frames).toEqual([
      [1, 'out'],
      [2, 'err line'],
    ]);
  });
});
