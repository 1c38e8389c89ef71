// Group commit for a module's hot writes: items submitted while earlier batches are being written wait and go
// together in the next statement, so under load one statement (and one commit) carries many rows while a lone
// item still goes at once. Each caller is answered only after the statement holding its item has committed.
// Hand-written: DataLoader, the usual batcher, cuts batches per tick and cannot hold the next one until a write
// slot frees up, which is what makes the batch grow with the load.
// Serves independent rows (transactions, payments): several statements in flight, each caller answered or failed
// with its own statement. The calculator's event buffer and the master's progress store need one write at a time
// and keep failed items, so they keep their own loops (each says why in its header).

export interface WriteBatcherOptions {
  /** Most items in one statement. */
  maxBatch: number;
  /** Most statements in flight at once; the rest wait and coalesce. */
  maxInFlight: number;
}

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;

  /** `write` answers one result per item, in the items' order. */
  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly options: WriteBatcherOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Items submitted in the same turn of the event loop go together, so the flush waits for the turn to end. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.writeBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async writeBatch(batch: Array<Waiting<I, O>>): Promise<void> {
    let results: O[];
    try {
      results = await this.write(batch.map((w) => w.item));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      // The statement is all or nothing: one item it refused must not fail the others, so each goes again alone.
      await Promise.all(batch.map((w) => this.writeBatch([w])));
      return;
    }
    for (const [i, w] of batch.entries()) w.resolve(results[i]);
  }
}
