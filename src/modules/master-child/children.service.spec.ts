import { Writable } from 'node:stream';
import { waitFor } from '../../../test/harness/wait-for.js';
import { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors/app-error.js';
import { configureRootLogger } from '../../platform/logging/logger.js';
import { Lifecycle } from '../../platform/shutdown/lifecycle.js';
import { ChildNotRecognisedError, ChildrenService, type ChildrenOptions } from './children.service.js';
import type { ChildExit, ChildHandle, ChildSpawner, ChildSpec } from './spawners/child-spawner.js';
import { SpawnError } from './spawners/child-spawner.js';

/** A child that ends when told to; stop() ends it with `stopExit` unless it is stubborn. */
class FakeChild implements ChildHandle {
  readonly ref: string;
  stopCalls = 0;
  private resolveExit!: (e: ChildExit) => void;
  private readonly exited = new Promise<ChildExit>((r) => (this.resolveExit = r));

  constructor(
    readonly id: string,
    readonly spec: ChildSpec,
    pid: number,
    private readonly stopExit: ChildExit | null = { exitCode: 0 },
  ) {
    this.ref = String(pid);
  }

  end(exit: ChildExit): void {
    this.resolveExit(exit);
  }

  wait(): Promise<ChildExit> {
    return this.exited;
  }

  async stop(): Promise<void> {
    this.stopCalls += 1;
    if (this.stopExit) this.end(this.stopExit);
  }

  stderrTail(): string {
    return `stderr of ${this.id}`;
  }
}

class FakeSpawner implements ChildSpawner {
  readonly kind = 'process' as const;
  readonly started: FakeChild[] = [];
  failWith?: Error;
  stopExit: ChildExit | null = { exitCode: 0 };
  /** When set, spawns wait for release() (a child still starting). */
  private gate?: Promise<void>;
  private openGate?: () => void;
  private pid = 1000;

  hold(): void {
    this.gate = new Promise((r) => (this.openGate = r));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async spawn(spec: ChildSpec): Promise<ChildHandle> {
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    const child = new FakeChild(spec.id, spec, ++this.pid, this.stopExit);
    this.started.push(child);
    return child;
  }

  child(id: string): FakeChild {
    const c = this.started.find((s) => s.id === id);
    if (!c) throw new Error(`child ${id} was not spawned`);
    return c;
  }
}

class SteppingClock extends Clock {
  private t = Date.UTC(2030, 0, 1);
  override now(): Date {
    this.t += 1;
    return new Date(this.t);
  }
}

const options = {
  base: {
    range: 1000,
    maxChildren: 2,
    childTimeoutMs: 60_000,
    advertiseAddr: { host: '127.0.0.1', port: 4123 },
    stopWaitMs: 60_000,
  } satisfies ChildrenOptions,
};

const noNumbers = {
  childProgress: () => ({ batches: 0, received: 0, unique: 0, duplicates: 0, rejected: 0 }),
};

function setup(overrides: Partial<ChildrenOptions> = {}) {
  const spawner = new FakeSpawner();
  const lifecycle = new Lifecycle();
  const service = new ChildrenService(
    spawner,
    { ...options.base, ...overrides },
    noNumbers,
    new SteppingClock(),
    lifecycle,
  );
  return { spawner, service, lifecycle };
}

async function spawned(spawner: FakeSpawner, id: string): Promise<void> {
  await waitFor(() => spawner.started.some((c) => c.id === id), `${id} to be spawned`);
}

/** Spawned, and it has reported once. */
async function running(service: ChildrenService, spawner: FakeSpawner, id: string): Promise<void> {
  await spawned(spawner, id);
  service.noteReport(id);
}

async function ended(service: ChildrenService, id: string): Promise<void> {
  await waitFor(() => ['succeeded', 'failed'].includes(service.get(id).status), `${id} to end`);
}

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return (err as AppError).status;
  }
  return undefined;
}

describe(ChildrenService.name, () => {
  it('answers "starting" at once with the defaults: 1000 numbers over the whole master range', () => {
    const { service } = setup();
    expect(service.create({})).toEqual({
      id: expect.stringMatching(/^c1-/),
      status: 'starting',
      count: 1000,
      min: 0,
      max: 1000,
    });
  });

  it("starts the child with its id, range, count and this master's address", async () => {
    const { service, spawner } = setup();
    const { id } = service.create({ count: 50, min: 10, max: 20 });
    await running(service, spawner, id);
    expect(spawner.child(id).spec.env).toEqual({
      CHILD_ID: id,
      CHILD_SECRET: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      CHILD_MIN: '10',
      CHILD_MAX: '20',
      CHILD_COUNT: '50',
      MASTER_ADDR: '127.0.0.1:4123',
    });
    expect(service.get(id)).toMatchObject({ status: 'running', pid: Number(spawner.child(id).ref) });
  });

  it('counts a started child as starting until it first reports, then as running', async () => {
    const { service, spawner } = setup();
    const { id } = service.create({});
    await spawned(spawner, id);
    expect(service.get(id)).toMatchObject({ status: 'starting', ref: spawner.child(id).ref });
    service.noteReport(id);
    expect(service.get(id).status).toBe('running');
    expect(service.counts()).toEqual({ starting: 0, running: 1, succeeded: 0, failed: 0 });
  });

  it('gives each child a distinct seed derived from the master seed', async () => {
    const { service, spawner } = setup({ childSeed: 'run-7' });
    const a = service.create({}).id;
    const b = service.create({}).id;
    await running(service, spawner, b);
    expect(spawner.child(a).spec.env.CHILD_SEED).toBe('run-7/1');
    expect(spawner.child(b).spec.env.CHILD_SEED).toBe('run-7/2');
  });

  it.each([
    ['min not below max', { min: 5, max: 5 }, 'min'],
    ['max beyond the master range', { max: 1001 }, 'max'],
  ])('refuses %s with a 400', (_name, body, field) => {
    const { service } = setup();
    expect(() => service.create(body)).toThrow(
      expect.objectContaining({ status: 400, errors: [expect.objectContaining({ field })] }),
    );
  });

  it('refuses a child beyond MASTER_MAX_CHILDREN with a 429, counting starting and running ones', async () => {
    const { service, spawner } = setup();
    spawner.hold();
    const first = service.create({}).id;
    service.create({});
    expect(statusOf(() => service.create({}))).toBe(429);
    spawner.release();
    await running(service, spawner, first);
    expect(statusOf(() => service.create({}))).toBe(429);
  });

  it('makes room again once a child has ended', async () => {
    const { service, spawner } = setup();
    const first = service.create({}).id;
    service.create({});
    await running(service, spawner, first);
    spawner.child(first).end({ exitCode: 0 });
    await ended(service, first);
    expect(service.create({}).status).toBe('starting');
  });

  it('marks a child that exits 0 succeeded and one that exits otherwise failed, with its code and stderr', async () => {
    const { service, spawner } = setup();
    const good = service.create({}).id;
    const bad = service.create({}).id;
    await running(service, spawner, good);
    await running(service, spawner, bad);
    spawner.child(good).end({ exitCode: 0 });
    spawner.child(bad).end({ exitCode: 137, signal: 'SIGKILL' });
    await ended(service, good);
    await ended(service, bad);
    expect(service.get(good)).toMatchObject({ status: 'succeeded', exitCode: 0, error: null });
    expect(service.get(bad)).toMatchObject({
      status: 'failed',
      exitCode: 137,
      signal: 'SIGKILL',
      error: 'killed by SIGKILL',
      stderrTail: `stderr of ${bad}`,
    });
    expect(service.counts()).toEqual({ starting: 0, running: 0, succeeded: 1, failed: 1 });
  });

  it('marks a child that could not be started failed with the reason', async () => {
    const { service, spawner } = setup();
    spawner.failWith = new SpawnError('image polyrole:latest not found');
    const { id } = service.create({});
    await ended(service, id);
    expect(service.get(id)).toMatchObject({
      status: 'failed',
      exitCode: null,
      ref: null,
      error: 'image polyrole:latest not found',
    });
  });

  it('stops a child that exceeds MASTER_CHILD_TIMEOUT_MS and marks it failed, even if it exits 0', async () => {
    const { service, spawner } = setup({ childTimeoutMs: 20 });
    const { id } = service.create({});
    await ended(service, id);
    expect(spawner.child(id).stopCalls).toBe(1);
    expect(service.get(id)).toMatchObject({
      status: 'failed',
      exitCode: 0,
      stoppedBy: 'timeout',
      error: expect.stringMatching(/timed out after 20 ms/),
    });
  });

  it('stops a child on request; it reports what it has and ends', async () => {
    const { service, spawner } = setup();
    const { id } = service.create({});
    await running(service, spawner, id);
    expect(service.stop(id)).toMatchObject({ stopping: true, child: { stoppedBy: 'request' } });
    await ended(service, id);
    expect(spawner.child(id).stopCalls).toBe(1);
    expect(service.get(id)).toMatchObject({ status: 'succeeded', stoppedBy: 'request' });
    expect(service.stop(id).stopping).toBe(false);
  });

  it('stops a child asked to stop while it was starting as soon as it is up', async () => {
    const { service, spawner } = setup();
    spawner.hold();
    const { id } = service.create({});
    service.stop(id);
    spawner.release();
    await ended(service, id);
    expect(spawner.child(id).stopCalls).toBe(1);
  });

  it('answers 404 for a child it does not know', () => {
    const { service } = setup();
    expect(statusOf(() => service.get('c9-nope'))).toBe(404);
    expect(statusOf(() => service.stop('c9-nope'))).toBe(404);
  });

  describe('authenticate', () => {
    it('hands each child its own secret at spawn and accepts its reports with it', async () => {
      const { service, spawner } = setup();
      const a = service.create({}).id;
      const b = service.create({}).id;
      await spawned(spawner, a);
      await spawned(spawner, b);
      const secretOf = (id: string) => spawner.child(id).spec.env.CHILD_SECRET;
      expect(secretOf(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(secretOf(a)).not.toBe(secretOf(b));
      expect(() => service.authenticate(a, secretOf(a))).not.toThrow();
      expect(() => service.authenticate(b, secretOf(b))).not.toThrow();
    });

    it("refuses another child's secret, a wrong one and an unknown child with the same typed error", async () => {
      const { service, spawner } = setup({ newSecret: (() => { let n = 0; return () => `fixed-secret-${++n}-padding`; })() }); // prettier-ignore
      const a = service.create({}).id;
      const b = service.create({}).id;
      await spawned(spawner, b);
      for (const [id, secret] of [
        [a, 'fixed-secret-2-padding'],
        [a, 'fixed-secret-1-paddinG'],
        ['c99-never-started', 'fixed-secret-1-padding'],
      ]) {
        let error: unknown;
        try {
          service.authenticate(id, secret);
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(ChildNotRecognisedError);
        expect(error).toMatchObject({ status: 403, code: 'child_not_recognised' });
      }
      expect(() => service.authenticate(a, 'fixed-secret-1-padding')).not.toThrow();
    });

    it('does not know the children of a previous life of the master', async () => {
      const before = setup({ newSecret: () => 'same-secret-every-time' });
      const { id } = before.service.create({});
      const after = setup({ newSecret: () => 'same-secret-every-time' });
      expect(() => after.service.authenticate(id, 'same-secret-every-time')).toThrow(ChildNotRecognisedError);
    });
  });

  it('keeps the done message of a child', async () => {
    const { service } = setup();
    const { id } = service.create({});
    service.noteDone({ childId: id, batches: 2, numbers: 1000, stopped: false });
    expect(service.get(id).done).toEqual({ childId: id, batches: 2, numbers: 1000, stopped: false });
  });

  it('stops every child at shutdown, waits for them to end, and accepts no new one', async () => {
    const { service, spawner } = setup();
    const a = service.create({}).id;
    spawner.hold();
    const b = service.create({}).id;
    await running(service, spawner, a);
    const shutdown = service.beforeApplicationShutdown();
    spawner.release();
    await shutdown;
    expect(spawner.started.map((c) => c.stopCalls)).toEqual([1, 1]);
    expect([service.get(a).stoppedBy, service.get(b).stoppedBy]).toEqual(['shutdown', 'shutdown']);
    expect(service.counts()).toMatchObject({ starting: 0, running: 0 });
    expect(statusOf(() => service.create({}))).toBe(503);
  });

  it('gives up on children that do not end within its share of the shutdown budget, naming them', async () => {
    const logs = captureLogs();
    const { service, spawner } = setup({ stopWaitMs: 50 });
    spawner.stopExit = null; // stop() is accepted but the child never ends
    const stubborn = service.create({}).id;
    await running(service, spawner, stubborn);
    spawner.hold(); // and this one's spawn never answers
    const unstarted = service.create({}).id;

    await service.beforeApplicationShutdown();

    const gaveUp = logs.find((l) => String(l.msg).startsWith('gave up waiting'));
    expect(gaveUp).toMatchObject({
      msg: `gave up waiting for 2 children: ${stubborn}, ${unstarted}`,
      children: [
        { child: stubborn, ref: spawner.child(stubborn).ref },
        { child: unstarted, ref: null },
      ],
    });
    expect(spawner.child(stubborn).stopCalls).toBe(1);
  });
});

/** The log lines written from now on in this test file, parsed. */
function captureLogs(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  configureRootLogger({ role: 'master', level: 'info', destination });
  return lines;
}
