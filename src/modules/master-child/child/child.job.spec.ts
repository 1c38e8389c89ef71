import { badRequest, serviceUnavailable } from '../../../platform/errors/app-error.js';
import type { DoneMessage, ReportBatch } from '../contract.js';
import { ChildJob, type ChildJobDeps, type ChildJobSpec } from './child.job.js';
import { createRandom, uniformInt } from './random.util.js';

const specs = {
  small: { childId: 'child-1', min: 10, max: 20, count: 25, batchSize: 10 } satisfies ChildJobSpec,
};
const seed = '7';

/** A master that records what it receives; `failures[seq]` lists errors thrown on that batch's first sends. */
function fakeMaster(failures: Record<number, unknown[]> = {}) {
  const reports: ReportBatch[] = [];
  const dones: DoneMessage[] = [];
  const delays: number[] = [];
  const deps: ChildJobDeps = {
    random: createRandom(seed),
    report: async (b) => {
      reports.push(structuredClone(b));
      const errors = failures[b.seq] ?? [];
      if (errors.length > 0) throw errors.shift();
      return { ok: true };
    },
    done: async (d) => void dones.push(d),
    sleep: async (ms) => void delays.push(ms),
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
    jitter: () => 1, // the top of each jittered wait: the ceilings themselves
  };
  return { deps, reports, dones, delays };
}

describe(ChildJob.name, () => {
  it('reports count numbers in numbered batches, then done', async () => {
    const master = fakeMaster();
    const result = await new ChildJob(specs.small, master.deps).run();
    expect(master.reports.map((b) => [b.seq, b.numbers.length])).toEqual([
      [0, 10],
      [1, 10],
      [2, 5],
    ]);
    expect(master.dones).toEqual([{ childId: 'child-1', batches: 3, numbers: 25, stopped: false }]);
    expect(result).toEqual(master.dones[0]);
  });

  it('draws the seeded sequence, uniformly in [min, max)', async () => {
    const master = fakeMaster();
    await new ChildJob(specs.small, master.deps).run();
    const reference = createRandom(seed);
    const expected = Array.from({ length: 25 }, () => uniformInt(reference, 10, 20));
    expect(master.reports.flatMap((b) => b.numbers)).toEqual(expected);
  });

  it('resends a failed batch unchanged, with growing delays', async () => {
    const down = serviceUnavailable('master down');
    const master = fakeMaster({ 1: [down, down] });
    await new ChildJob(specs.small, master.deps).run();
    const sendsOfOne = master.reports.filter((b) => b.seq === 1);
    expect(sendsOfOne).toHaveLength(3);
    expect(sendsOfOne[2]).toEqual(sendsOfOne[0]);
    expect(master.delays).toEqual([100, 200]);
    expect(master.dones).toHaveLength(1);
  });

  it('fails once the retries are used up, without sending done', async () => {
    const down = serviceUnavailable('master down');
    const master = fakeMaster({ 0: [down, down, down] });
    await expect(new ChildJob(specs.small, master.deps).run()).rejects.toBe(down);
    expect(master.dones).toHaveLength(0);
  });

  it('does not resend a batch the master refused as invalid', async () => {
    const refused = badRequest('bad batch');
    const master = fakeMaster({ 0: [refused] });
    await expect(new ChildJob({ ...specs.small, maxInFlight: 1 }, master.deps).run()).rejects.toBe(refused);
    expect(master.reports.map((b) => b.seq)).toEqual([0]);
  });

  it('keeps at most maxInFlight batches unacknowledged', async () => {
    let open = 0;
    let widest = 0;
    const master = fakeMaster();
    const job = new ChildJob(
      { ...specs.small, count: 100, batchSize: 5, maxInFlight: 3 },
      {
        ...master.deps,
        report: async () => {
          widest = Math.max(widest, ++open);
          await new Promise((resolve) => setImmediate(resolve));
          open--;
        },
      },
    );
    await job.run();
    expect(widest).toBe(3);
  });

  it('on stop, draws nothing more but delivers the batches in flight and says it stopped', async () => {
    const master = fakeMaster();
    const held: (() => void)[] = [];
    const job = new ChildJob(
      { ...specs.small, count: 1000, maxInFlight: 2 },
      {
        ...master.deps,
        report: (b) => {
          master.reports.push(b);
          return new Promise<void>((resolve) => held.push(resolve));
        },
      },
    );
    const running = job.run();
    await new Promise((resolve) => setImmediate(resolve));
    expect(held).toHaveLength(2);
    const stopping = job.stop();
    held.forEach((release) => release());
    await expect(stopping).resolves.toEqual({ childId: 'child-1', batches: 2, numbers: 20, stopped: true });
    await expect(running).resolves.toMatchObject({ stopped: true });
    expect(master.reports).toHaveLength(2);
    expect(master.dones).toEqual([{ childId: 'child-1', batches: 2, numbers: 20, stopped: true }]);
  });
});
