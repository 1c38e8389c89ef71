import { WriteBatcher } from './write-batcher.js';

/** A write that records each batch it is given and stays pending until released. */
class HeldWrite {
  readonly batches: number[][] = [];
  private releases: Array<() => void> = [];

  readonly write = (items: number[]): Promise<string[]> => {
    this.batches.push(items);
    return new Promise((resolve, reject) =>
      this.releases.push(() =>
        items.includes(-1) ? reject(new Error('refused -1')) : resolve(items.map((i) => `#${i}`)),
      ),
    );
  };

  releaseAll(): void {
    for (const release of this.releases.splice(0)) release();
  }
}

const turn = () => new Promise((r) => setImmediate(r));

describe(WriteBatcher.name, () => {
  it('writes a lone item at once, in a batch of its own, and answers its result', async () => {
    const held = new HeldWrite();
    const batcher = new WriteBatcher(held.write, { maxBatch: 10, maxInFlight: 2 });
    const answer = batcher.submit(7);
    await turn();
    expect(held.batches).toEqual([[7]]);
    held.releaseAll();
    await expect(answer).resolves.toBe('#7');
  });

  it('puts items submitted in the same turn into one statement, each answered with its own result', async () => {
    const held = new HeldWrite();
    const batcher = new WriteBatcher(held.write, { maxBatch: 10, maxInFlight: 2 });
    const answers = [1, 2, 3].map((i) => batcher.submit(i));
    await turn();
    held.releaseAll();
    expect(held.batches).toEqual([[1, 2, 3]]);
    expect(await Promise.all(answers)).toEqual(['#1', '#2', '#3']);
  });

  it('holds items while every write slot is busy and sends them together once one frees up', async () => {
    const held = new HeldWrite();
    const batcher = new WriteBatcher(held.write, { maxBatch: 10, maxInFlight: 1 });
    const first = batcher.submit(1);
    await turn();
    const later = [2, 3, 4].map((i) => batcher.submit(i));
    await turn();
    await turn();
    expect(held.batches).toEqual([[1]]);
    held.releaseAll();
    await first;
    await turn();
    await turn();
    expect(held.batches).toEqual([[1], [2, 3, 4]]);
    held.releaseAll();
    expect(await Promise.all(later)).toEqual(['#2', '#3', '#4']);
  });

  it('never puts more than maxBatch items in one statement', async () => {
    const held = new HeldWrite();
    const batcher = new WriteBatcher(held.write, { maxBatch: 2, maxInFlight: 4 });
    const answers = [1, 2, 3, 4, 5].map((i) => batcher.submit(i));
    await turn();
    expect(held.batches).toEqual([[1, 2], [3, 4], [5]]);
    held.releaseAll();
    expect(await Promise.all(answers)).toEqual(['#1', '#2', '#3', '#4', '#5']);
  });

  it('writes the others again one by one when a statement is refused, so only the refused item fails', async () => {
    const held = new HeldWrite();
    const batcher = new WriteBatcher(held.write, { maxBatch: 10, maxInFlight: 1 });
    const answers = [1, -1, 2].map((i) => batcher.submit(i).catch((err: Error) => err.message));
    await turn();
    held.releaseAll();
    await turn();
    held.releaseAll();
    expect(await Promise.all(answers)).toEqual(['#1', 'refused -1', '#2']);
    expect(held.batches).toEqual([[1, -1, 2], [1], [-1], [2]]);
  });
});
