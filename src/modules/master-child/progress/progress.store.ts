// The master's progress: which numbers of [min, max) have been seen, plus received / duplicate / rejected
// counters, kept in memory (a bitmap) and persisted in PostgreSQL with group commit.
//
// Batches queue while a commit is in flight and go together into the next one: one SQL statement (so one
// transaction, one round trip) rewrites the touched bitmap chunks, adds to the counters and records each
// (childId, seq), so a batch is never half-persisted and a commit costs at most one bitmap however many numbers
// arrive. A batch is acknowledged only once committed. The in-memory mirror decides what is new, which is sound
// because exactly one master writes: loading takes ownership of the state row, and a commit whose owner no longer
// matches writes nothing.
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { AppError, badRequest, serviceUnavailable } from '../../../platform/errors/app-error.js';
import type { ReportAck, ReportBatch } from '../contract.js';
import { popcount } from './bitmap.util.js';

export interface ProgressRange {
  min: number;
  /** Exclusive. */
  max: number;
}

export interface ProgressSnapshot {
  uniqueNumbers: number;
  /** uniqueNumbers / (max - min) x 100. */
  percentage: number;
  range: ProgressRange;
  /** Every number of every accepted batch: uniqueNumbers + duplicates + rejected. */
  received: number;
  duplicates: number;
  rejected: number;
  /** Accepted batches (replays excluded). */
  batches: number;
}

export interface ChildProgress {
  batches: number;
  received: number;
  unique: number;
  duplicates: number;
  rejected: number;
}

export interface ProgressStoreOptions {
  range: ProgressRange;
  /** Bytes per persisted chunk (8 numbers per byte); at most 4096 so a chunk row fits a page. Default 1024. */
  chunkBytes?: number;
  /** What to do when the database holds progress for another range or chunk size: refuse (default) or start over. */
  onRangeMismatch?: 'fail' | 'reset';
  /** Largest batch accepted. Default 100,000 numbers. */
  maxBatchNumbers?: number;
  /** This instance's ownership token (tests fix it); default a random UUID. */
  owner?: string;
}

interface Pending {
  key: string;
  batch: ReportBatch;
  resolve: (ack: ReportAck) => void;
  reject: (err: unknown) => void;
}

const MAX_SEQ = 2 ** 31 - 1;
const MAX_CHILD_ID_LENGTH = 128;

const FLUSH_SQL = `
WITH s AS (
  UPDATE master_progress_state
     SET received = received + $2, duplicates = duplicates + $3, rejected = rejected + $4
   WHERE id = 1 AND owner = $1
  RETURNING 1
), c AS (
  INSERT INTO master_progress_chunk (chunk_no, bits)
  SELECT t.chunk_no, substring($6::bytea FROM (t.ord::int - 1) * $7::int + 1 FOR $7::int)
    FROM unnest($5::int[]) WITH ORDINALITY AS t(chunk_no, ord)
   WHERE EXISTS (SELECT 1 FROM s)
  ON CONFLICT (chunk_no) DO UPDATE SET bits = EXCLUDED.bits
), r AS (
  INSERT INTO master_report (child_id, seq, received, unique_numbers, duplicates, rejected)
  SELECT * FROM unnest($8::text[], $9::int[], $10::int[], $11::int[], $12::int[], $13::int[])
   WHERE EXISTS (SELECT 1 FROM s)
)
SELECT count(*)::int AS owned FROM s`;

export class ProgressStore {
  readonly range: ProgressRange;
  readonly chunkBytes: number;
  private readonly size: number;
  private readonly chunkCount: number;
  private readonly owner: string;
  private readonly maxBatchNumbers: number;
  private readonly onRangeMismatch: 'fail' | 'reset';

  private bits: Uint8Array;
  private readonly touched: Uint8Array;
  private unique = 0;
  private received = 0;
  private duplicates = 0;
  private rejected = 0;
  private batches = 0;
  private readonly children = new Map<string, { seqs: Set<number>; totals: ChildProgress }>();

  private queue: Pending[] = [];
  private readonly pending = new Map<string, Promise<ReportAck>>();
  private flushing: Promise<void> | null = null;
  private loaded = false;

  constructor(
    private readonly db: DataSource,
    options: ProgressStoreOptions,
  ) {
    const { min, max } = options.range;
    if (
      !Number.isSafeInteger(min) ||
      !Number.isSafeInteger(max) ||
      min < 0 ||
      max <= min ||
      max > 2 ** 31 - 1
    ) {
      throw new Error(`invalid progress range [${min}, ${max})`);
    }
    this.chunkBytes = options.chunkBytes ?? 1024;
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1 || this.chunkBytes > 4096) {
      throw new Error(`chunkBytes must be 1-4096 (got ${this.chunkBytes})`);
    }
    this.range = { min, max };
    this.size = max - min;
    this.chunkCount = Math.ceil(this.size / (this.chunkBytes * 8));
    this.bits = new Uint8Array(this.chunkCount * this.chunkBytes);
    this.touched = new Uint8Array(this.chunkCount);
    this.owner = options.owner ?? randomUUID();
    this.maxBatchNumbers = options.maxBatchNumbers ?? 100_000;
    this.onRangeMismatch = options.onRangeMismatch ?? 'fail';
  }

  /** Takes ownership of the persisted progress and rebuilds the in-memory mirror from it. */
  async load(): Promise<void> {
    await this.db.transaction(async (m) => {
      const state = await this.claimState(m);
      const chunks: { chunk_no: number; bits: Buffer }[] = await m.query(
        'SELECT chunk_no, bits FROM master_progress_chunk WHERE chunk_no < $1',
        [this.chunkCount],
      );
      const reports: {
        child_id: string;
        seq: number;
        received: number;
        unique_numbers: number;
        duplicates: number;
        rejected: number;
      }[] = await m.query(
        'SELECT child_id, seq, received, unique_numbers, duplicates, rejected FROM master_report',
      );
      this.bits = new Uint8Array(this.chunkCount * this.chunkBytes);
      for (const c of chunks)
        this.bits.set(c.bits.subarray(0, this.chunkBytes), c.chunk_no * this.chunkBytes);
      this.unique = popcount(this.bits);
      this.received = Number(state.received);
      this.duplicates = Number(state.duplicates);
      this.rejected = Number(state.rejected);
      this.children.clear();
      this.batches = 0;
      for (const r of reports) {
        this.recordReport(r.child_id, r.seq, {
          batches: 1,
          received: r.received,
          unique: r.unique_numbers,
          duplicates: r.duplicates,
          rejected: r.rejected,
        });
      }
    });
    this.loaded = true;
  }

  /**
   * Records one batch; resolves once it is committed. A `(childId, seq)` seen before (or still being committed)
   * is not counted again. Numbers outside the range, or not integers, are rejected and counted.
   */
  ingest(batch: ReportBatch): Promise<ReportAck> {
    if (!this.loaded)
      return Promise.reject(serviceUnavailable('progress is not loaded yet', 'progress_not_loaded'));
    const problem = this.checkBatch(batch);
    if (problem) return Promise.reject(problem);
    const key = `${batch.childId}\u0000${batch.seq}`;
    if (this.children.get(batch.childId)?.seqs.has(batch.seq)) return Promise.resolve(replayAck(batch));
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight.then(() => replayAck(batch));
    const promise = new Promise<ReportAck>((resolve, reject) => {
      this.queue.push({ key, batch, resolve, reject });
    });
    this.pending.set(key, promise);
    this.kick();
    return promise;
  }

  snapshot(): ProgressSnapshot {
    return {
      uniqueNumbers: this.unique,
      percentage: (this.unique / this.size) * 100,
      range: { ...this.range },
      received: this.received,
      duplicates: this.duplicates,
      rejected: this.rejected,
      batches: this.batches,
    };
  }

  get uniqueNumbers(): number {
    return this.unique;
  }

  /** What one child's accepted batches added up to. */
  childProgress(childId: string): ChildProgress {
    const c = this.children.get(childId);
    return c ? { ...c.totals } : { batches: 0, received: 0, unique: 0, duplicates: 0, rejected: 0 };
  }

  /** Whether `n` has been seen (committed or being committed). */
  has(n: number): boolean {
    if (!Number.isInteger(n) || n < this.range.min || n >= this.range.max) return false;
    const off = n - this.range.min;
    return (this.bits[off >>> 3] & (1 << (off & 7))) !== 0;
  }

  /** Resolves when every batch accepted so far has been committed or failed (shutdown). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async claimState(m: EntityManager): Promise<Record<string, string>> {
    const { min, max } = this.range;
    const rows: Record<string, string>[] = await m.query(
      `INSERT INTO master_progress_state AS s (id, range_min, range_max, chunk_bytes, owner)
       VALUES (1, $1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner
       RETURNING s.range_min, s.range_max, s.chunk_bytes, s.received, s.duplicates, s.rejected`,
      [min, max, this.chunkBytes, this.owner],
    );
    const state = rows[0];
    const same =
      Number(state.range_min) === min &&
      Number(state.range_max) === max &&
      Number(state.chunk_bytes) === this.chunkBytes;
    if (same) return state;
    const stored = `[${state.range_min}, ${state.range_max}) in chunks of ${state.chunk_bytes} bytes`;
    if (this.onRangeMismatch === 'fail') {
      throw new AppError(
        500,
        'progress_range_mismatch',
        `the database holds progress for ${stored}, but this master counts [${min}, ${max}) in chunks of ` +
          `${this.chunkBytes} bytes; restore the old range or start from a fresh database`,
      );
    }
    await m.query('DELETE FROM master_progress_chunk');
    await m.query('DELETE FROM master_report');
    const reset: Record<string, string>[] = await m.query(
      `INSERT INTO master_progress_state AS s (id, range_min, range_max, chunk_bytes, owner) VALUES (1, $1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET range_min = EXCLUDED.range_min, range_max = EXCLUDED.range_max,
         chunk_bytes = EXCLUDED.chunk_bytes, received = 0, duplicates = 0, rejected = 0
       RETURNING s.range_min, s.range_max, s.chunk_bytes, s.received, s.duplicates, s.rejected`,
      [min, max, this.chunkBytes, this.owner],
    );
    return reset[0];
  }

  private checkBatch(b: ReportBatch): AppError | undefined {
    if (!b || typeof b !== 'object') return badRequest('a report must be an object {childId, seq, numbers}');
    if (typeof b.childId !== 'string' || b.childId.length === 0 || b.childId.length > MAX_CHILD_ID_LENGTH) {
      return badRequest(`childId must be a non-empty string of at most ${MAX_CHILD_ID_LENGTH} characters`);
    }
    if (!Number.isInteger(b.seq) || b.seq < 0 || b.seq > MAX_SEQ) {
      return badRequest(`seq must be an integer in [0, ${MAX_SEQ}]`);
    }
    if (!Array.isArray(b.numbers)) return badRequest('numbers must be an array');
    if (b.numbers.length > this.maxBatchNumbers) {
      return badRequest(`a batch holds at most ${this.maxBatchNumbers} numbers (got ${b.numbers.length})`);
    }
    return undefined;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      await this.commit(group);
    }
  }

  /** Applies a group to the mirror, persists it in one statement, and undoes the mirror if that fails. */
  private async commit(group: Pending[]): Promise<void> {
    const { min, max } = this.range;
    const bits = this.bits;
    const set: number[] = [];
    const touchedChunks: number[] = [];
    const chunkBits = this.chunkBytes * 8;
    const acks: ReportAck[] = [];
    let received = 0;
    let duplicates = 0;
    let rejected = 0;
    for (const { batch } of group) {
      let u = 0;
      let d = 0;
      let r = 0;
      for (const n of batch.numbers) {
        if (!Number.isInteger(n) || n < min || n >= max) {
          r++;
          continue;
        }
        const off = n - min;
        const mask = 1 << (off & 7);
        if (bits[off >>> 3] & mask) {
          d++;
          continue;
        }
        bits[off >>> 3] |= mask;
        set.push(off);
        u++;
        const chunk = (off / chunkBits) | 0;
        if (this.touched[chunk] === 0) {
          this.touched[chunk] = 1;
          touchedChunks.push(chunk);
        }
      }
      received += batch.numbers.length;
      duplicates += d;
      rejected += r;
      acks.push({
        childId: batch.childId,
        seq: batch.seq,
        replayed: false,
        unique: u,
        duplicates: d,
        rejected: r,
      });
    }
    for (const c of touchedChunks) this.touched[c] = 0;
    touchedChunks.sort((a, b) => a - b);

    let failure: unknown;
    try {
      const chunkData = Buffer.allocUnsafe(touchedChunks.length * this.chunkBytes);
      touchedChunks.forEach((c, i) =>
        chunkData.set(bits.subarray(c * this.chunkBytes, (c + 1) * this.chunkBytes), i * this.chunkBytes),
      );
      const rows: { owned: number }[] = await this.db.query(FLUSH_SQL, [
        this.owner,
        received,
        duplicates,
        rejected,
        touchedChunks,
        chunkData,
        this.chunkBytes,
        acks.map((a) => a.childId),
        acks.map((a) => a.seq),
        group.map((p) => p.batch.numbers.length),
        acks.map((a) => a.unique),
        acks.map((a) => a.duplicates),
        acks.map((a) => a.rejected),
      ]);
      if (rows[0]?.owned !== 1) {
        failure = serviceUnavailable(
          'another master has taken over the progress; this one no longer writes',
          'progress_owner_changed',
        );
      }
    } catch (err) {
      failure = serviceUnavailable(
        `progress could not be saved: ${(err as Error).message}`,
        'progress_unavailable',
      );
    }

    if (failure) {
      for (const off of set) bits[off >>> 3] &= ~(1 << (off & 7));
      for (const p of group) {
        this.pending.delete(p.key);
        p.reject(failure);
      }
      return;
    }
    this.unique += set.length;
    this.received += received;
    this.duplicates += duplicates;
    this.rejected += rejected;
    group.forEach((p, i) => {
      const a = acks[i];
      this.recordReport(a.childId, a.seq, {
        batches: 1,
        received: p.batch.numbers.length,
        unique: a.unique,
        duplicates: a.duplicates,
        rejected: a.rejected,
      });
      this.pending.delete(p.key);
      p.resolve(a);
    });
  }

  private recordReport(childId: string, seq: number, add: ChildProgress): void {
    let c = this.children.get(childId);
    if (!c) {
      c = { seqs: new Set(), totals: { batches: 0, received: 0, unique: 0, duplicates: 0, rejected: 0 } };
      this.children.set(childId, c);
    }
    c.seqs.add(seq);
    c.totals.batches += add.batches;
    c.totals.received += add.received;
    c.totals.unique += add.unique;
    c.totals.duplicates += add.duplicates;
    c.totals.rejected += add.rejected;
    this.batches += 1;
  }
}

function replayAck(batch: ReportBatch): ReportAck {
  return { childId: batch.childId, seq: batch.seq, replayed: true, unique: 0, duplicates: 0, rejected: 0 };
}
