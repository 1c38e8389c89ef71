// Master-child (seed 004) end to end with the process spawner: the master in ROLE=all (single) or ROLE=master
// (multi); its children are always processes of their own (`node dist/main.js` with ROLE=child).
import request from 'supertest';
import { Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import { waitFor } from '../harness/wait-for.js';
import { expectEach } from '../harness/expect-each.js';

/** How the waits here poll: each look costs a request. */
const POLL = { limitMs: 30_000, everyMs: 100 };

const RANGE = 1000;
const MASTER_SEED = 'e2e-master-seed';
const MAX_CHILDREN = 3;

/** The first children of a master: their bodies, in the order they are created (ordinals 1, 2, 3). */
const seededChildren = [
  { body: { count: 400 }, range: { min: 0, max: RANGE } },
  { body: { count: 300, min: 200, max: 700 }, range: { min: 200, max: 700 } },
  { body: {}, range: { min: 0, max: RANGE } },
];
const DEFAULT_COUNT = 1000;

/** A child that cannot finish on its own (it would draw for hours). */
const endless = { count: 1_000_000_000 };

const badBodies = [
  { name: 'a count of 0', body: { count: 0 }, detail: /count must be at least 1/ },
  { name: 'a count given as a string', body: { count: '5' }, detail: /count must be an integer/ },
  { name: 'a fractional min', body: { min: 1.5 }, detail: /min must be an integer/ },
  { name: 'min not below max', body: { min: 10, max: 10 }, detail: /min \(10\) must be below max \(10\)/ },
  { name: 'max beyond the master range', body: { max: RANGE + 1 }, detail: /master range \(1000\)/ },
  { name: 'an unknown field', body: { count: 5, image: 'evil' }, detail: /property image should not exist/ },
  { name: 'an array', body: [1, 2], detail: /Expected a JSON object/ },
];

/**
 * What the seeded children add up to. Their seeds are fixed (`e2e-master-seed/1` .. `/3`), so are their draws: these
 * are the values of that run, pinned, so a change in the generator or the counting shows here.
 */
const seededProgress = {
  uniqueNumbers: 806,
  percentage: 80.6,
  range: { min: 0, max: RANGE },
  received: 1700,
  duplicates: 894,
};

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

describe.each(TOPOLOGIES)('master and children, %s topology', (kind) => {
  let topo: Topology;
  let master: RoleProcess;
  let url: string;

  const child = async (id: string) => (await request(url).get(`/master/children/${id}`).expect(200)).body;
  const create = async (body: object) =>
    (await request(url).post('/master/children').send(body).expect(202)).body as { id: string };
  const whenEnded = (id: string) =>
    waitFor(
      async () => {
        const c = await child(id);
        return ['succeeded', 'failed'].includes(c.status) ? c : undefined;
      },
      `child ${id} to end`,
      POLL,
    );
  const whenRunning = (id: string) =>
    waitFor(
      async () => {
        const c = await child(id);
        return c.status === 'running' ? (c as { pid: number }) : undefined;
      },
      `child ${id} to run`,
      POLL,
    );

  beforeAll(async () => {
    topo = await Topology.startKind(kind, ['master'], {
      env: {
        MASTER_RANGE: String(RANGE),
        MASTER_CHILD_SEED: MASTER_SEED,
        MASTER_MAX_CHILDREN: String(MAX_CHILDREN),
        MASTER_CHILD_STOP_GRACE_MS: '4000',
      },
    });
    master = topo.host('master');
    url = master.url;
  });
  afterAll(() => topo?.stop());

  it.each(badBodies)('refuses $name with a 400 problem', async ({ body, detail }) => {
    for (const path of ['/master/create-child', '/master/children']) {
      const res = await request(url).post(path).set('content-type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.detail).toMatch(detail);
    }
  });

  it('refuses a body that is not JSON with a 400 problem', async () => {
    const res = await request(url)
      .post('/master/create-child')
      .set('content-type', 'application/json')
      .send('{"count": ');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('adds up seeded children to exactly the expected progress', async () => {
    const first = await request(url).post('/master/create-child').send(seededChildren[0].body).expect(202);
    expect(first.body).toEqual({
      id: expect.any(String),
      status: 'starting',
      count: 400,
      min: 0,
      max: RANGE,
    });
    const second = await create(seededChildren[1].body);
    // No body at all: every default.
    const third = await request(url).post('/master/children').expect(202);
    expect(third.body).toMatchObject({ count: DEFAULT_COUNT, min: 0, max: RANGE });
    const ids = [first.body.id, second.id, third.body.id];

    for (const [i, id] of ids.entries()) {
      const c = await whenEnded(id);
      const count = seededChildren[i].body.count ?? DEFAULT_COUNT;
      expect(c).toMatchObject({ status: 'succeeded', exitCode: 0, error: null, seed: expect.any(String) });
      expect(c.done).toEqual({ childId: id, batches: 1, numbers: count, stopped: false });
      expect(c.reported).toMatchObject({ received: count, rejected: 0 });
      expect(c.reported.unique + c.reported.duplicates).toBe(count);
    }
    const progress = await request(url).get('/master/progress').expect(200);
    expect(progress.body).toEqual({
      ...seededProgress,
      children: { starting: 0, running: 0, succeeded: 3, failed: 0 },
    });
    const list = await request(url).get('/master/children').expect(200);
    expect(list.body.map((c: { id: string }) => c.id)).toEqual(ids);
  });

  it('finds the same progress after the master restarts', async () => {
    const before = (await request(url).get('/master/progress').expect(200)).body;
    await master.restart();
    const after = (await request(url).get('/master/progress').expect(200)).body;
    expect(after).toEqual({ ...before, children: { starting: 0, running: 0, succeeded: 0, failed: 0 } });
    expect(after).toMatchObject(seededProgress);
  });

  describe('with running children', () => {
    const running: string[] = [];

    it('refuses a child beyond MASTER_MAX_CHILDREN with a 429 problem', async () => {
      for (let i = 0; i < MAX_CHILDREN; i++) running.push((await create(endless)).id);
      const res = await request(url).post('/master/create-child').send({ count: 10 });
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ status: 429, code: 'too_many_children' });
      await Promise.all(running.map(whenRunning));
      const progress = (await request(url).get('/master/progress').expect(200)).body;
      expect(progress.children).toMatchObject({ starting: 0, running: MAX_CHILDREN });
    });

    it('marks a child killed with SIGKILL failed with its exit code', async () => {
      const victim = running.shift()!;
      const { pid } = await whenRunning(victim);
      process.kill(pid, 'SIGKILL');
      const c = await whenEnded(victim);
      expect(c).toMatchObject({
        status: 'failed',
        exitCode: 137,
        signal: 'SIGKILL',
        error: 'killed by SIGKILL',
      });
    });

    it('stops a child on DELETE; it reports what it drew and exits 0', async () => {
      const id = running.shift()!;
      const res = await request(url).delete(`/master/children/${id}`).expect(202);
      expect(res.body).toMatchObject({ id, stoppedBy: 'request' });
      const c = await whenEnded(id);
      expect(c).toMatchObject({ status: 'succeeded', exitCode: 0, stoppedBy: 'request' });
      expect(c.done).toMatchObject({ childId: id, stopped: true });
      expect(c.reported.received).toBe(c.done.numbers);
      await request(url).delete(`/master/children/${id}`).expect(200);
      await request(url).get('/master/children/c999-none').expect(404);
    });

    it('stops every child when the master gets SIGTERM: no child process is left', async () => {
      running.push((await create(endless)).id);
      const pids = (await Promise.all(running.map(whenRunning))).map((c) => c.pid);
      expect(pids).toHaveLength(2);
      expectEach(pids, isAlive, 'each child process alive');

      expect(await master.stop()).toBe(0);
      expect(pids.filter(isAlive)).toEqual([]);
      const stopped = master.logs().filter((l) => /^stopped child /.test(l.msg ?? ''));
      expect(stopped.map((l) => l.child).sort()).toEqual([...running].sort());
    });
  });
});
