// The master's progress: which numbers of [min, max) have been seen, plus received / duplicate / rejected
// counters, kept in memory (a bitmap) and persisted in PostgreSQL with group commit.
//
// Batches queue while a commit is in flight and go together into the next one: one SQL statement (so one
// transaction, one round trip) appends the group's newly seen numbers to a log, adds to the counters and records
// each (childId, seq), so a batch is never half-persisted. Every few megabytes of log, a commit is a checkpoint
// instead: it rewrites the bitmap chunks changed since the last one and empties the log, in the same single
// statement. A commit therefore costs about 4 bytes per new number rather than a chunk rewrite, and boot rebuilds
// the mirror from the chunks plus the log. A batch is acknowledged only once committed. The in-memory mirror
// decides what is new, which is sound because exactly one master writes: loading takes ownership of the state
// row, and a commit whose owner no longer matches writes nothing.
// Not the platform's WriteBatcher: a group here is one statement built against the mirror and the log position
// (and sometimes a checkpoint), so commits must run one at a time, which side-by-side statements would break.
import { randomUUID } from 'node:crypto';
import { endianness } from 'node:os';
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
  /** Log bytes (4 per new number) after which the next commit is a checkpoint. Default 4 MiB. */
  checkpointBytes?: number;
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

/** Share of the range seen, in percent, to 6 decimals: `4999 / 1e7 * 100` prints 0.04999, not 0.04998999999999999. */
export function percentageOf(unique: number, size: number): number {
  return Math.round((unique / size) * 100 * 1e6) / 1e6;
}
/** The log stores little-endian uint32s; on such a machine a Uint32Array's bytes are that already. */
const LITTLE_ENDIAN = endianness() === 'LE';
/** The counts the last mark() left: unique, duplicates, rejected (one array for all calls, so none is allocated). */
const MARKED = new Int32Array(3);
const MAX_CHILD_ID_LENGTH = 128;

// $1 owner, $2-$4 counter increments, $5-$10 the reports; then per statement below.
const STATE_AND_REPORTS = `
WITH s AS (
  UPDATE master_progress_state
     SET received = received + $2, duplicates = duplicates + $3, rejected = rejected + $4
   WHERE id = 1 AND owner = $1
  RETURNING 1
), r AS (
  INSERT INTO master_report (child_id, seq, received, unique_numbers, duplicates, rejected)
  SELECT * FROM unnest($5::text[], $6::int[], $7::int[], $8::int[], $9::int[], $10::int[])
   WHERE EXISTS (SELECT 1 FROM s)
)`;

/** $11: the newly seen offsets as little-endian uint32s. */
const LOG_COMMIT_SQL = `${STATE_AND_REPORTS}, l AS (
  INSERT INTO master_progress_log (offsets)
  SELECT $11::bytea WHERE length($11::bytea) > 0 AND EXISTS (SELECT 1 FROM s)
)
SELECT count(*)::int AS owned FROM s`;

/** $11: chunk numbers; $12: their contents, concatenated; $13: bytes per chunk. */
const CHECKPOINT_SQL = `${STATE_AND_REPORTS}, c AS (
  INSERT INTO master_progress_chunk (chunk_no, bits)
  SELECT t.chunk_no, substring($12::bytea FROM (t.ord::int - 1) * $13::int + 1 FOR $13::int)
    FROM unnest($11::int[]) WITH ORDINALITY AS t(chunk_no, ord)
   WHERE EXISTS (SELECT 1 FROM s)
  ON CONFLICT (chunk_no) DO UPDATE SET bits = EXCLUDED.bits
), d AS (
  DELETE FROM master_progress_log WHERE EXISTS (SELECT 1 FROM s)
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

  private readonly checkpointBytes: number;

  private bits: Uint8Array;
  /** Chunks changed since the last checkpoint, as flags and as a list. */
  private readonly dirty: Uint8Array;
  private dirtyList: number[] = [];
  private logBytes = 0;
  private checkpointRequested = false;
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
    this.dirty = new Uint8Array(this.chunkCount);
    this.checkpointBytes = options.checkpointBytes ?? 4 * 1024 * 1024;
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
      const log: { offsets: Buffer }[] = await m.query('SELECT offsets FROM master_progress_log ORDER BY id');
      this.bits = new Uint8Array(this.chunkCount * this.chunkBytes);
      for (const c of chunks)
        this.bits.set(c.bits.subarray(0, this.chunkBytes), c.chunk_no * this.chunkBytes);
      this.dirty.fill(0);
      this.dirtyList = [];
      this.logBytes = 0;
      const chunkBits = this.chunkBytes * 8;
      for (const { offsets } of log) {
        this.logBytes += offsets.length;
        for (let i = 0; i + 4 <= offsets.length; i += 4) {
          const off = offsets.readUInt32LE(i);
          if (off >= this.size) continue;
          this.bits[off >>> 3] |= 1 << (off & 7);
          this.markDirty((off / chunkBits) | 0);
        }
      }
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
      percentage: percentageOf(this.unique, this.size),
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

  /** Folds the log into the chunks now (at shutdown, so the next boot replays nothing). */
  async checkpoint(): Promise<void> {
    this.checkpointRequested = true;
    this.kick();
    await this.drain();
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
    await m.query('DELETE FROM master_progress_log');
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
    // Start on the next turn of the event loop, so batches that arrive together share the first commit too.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flushLoop())
      .finally(() => {
        this.flushing = null;
      });
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0 || this.checkpointRequested) {
      const group = this.queue;
      this.queue = [];
      const checkpoint = this.checkpointRequested || this.logBytes >= this.checkpointBytes;
      this.checkpointRequested = false;
      await this.commit(group, checkpoint);
    }
  }

  private markDirty(chunk: number): void {
    if (this.dirty[chunk] === 0) {
      this.dirty[chunk] = 1;
      this.dirtyList.push(chunk);
    }
  }

  /**
   * Sets the bits of a batch's numbers in the mirror, appending the offsets new to it to `set` from `added`; returns
   * the new `added` and leaves the batch's unique, duplicate and rejected counts in MARKED. A small function of its
   * own, so the optimiser compiles this loop on its own rather than as part of commit's async body.
   */
  private mark(numbers: readonly number[], set: Uint32Array, added: number): number {
    const { min, max } = this.range;
    const bits = this.bits;
    const chunkBytes = this.chunkBytes;
    let u = 0;
    let d = 0;
    let r = 0;
    for (let i = 0; i < numbers.length; i++) {
      const n = numbers[i];
      if (!Number.isInteger(n) || n < min || n >= max) {
        r++;
        continue;
      }
      const off = n - min;
      const byte = off >>> 3;
      const mask = 1 << (off & 7);
      const was = bits[byte];
      if (was & mask) {
        d++;
        continue;
      }
      bits[byte] = was | mask;
      set[added++] = off;
      u++;
      this.markDirty((byte / chunkBytes) | 0);
    }
    MARKED[0] = u;
    MARKED[1] = d;
    MARKED[2] = r;
    return added;
  }

  /** Applies a group to the mirror, persists it in one statement, and undoes the mirror if that fails. */
  private async commit(group: Pending[], checkpoint: boolean): Promise<void> {
    const bits = this.bits;
    let total = 0;
    for (const { batch } of group) total += batch.numbers.length;
    // Offsets of the numbers new to the mirror, sized for the worst case (all new): the hot loop only indexes.
    const set = new Uint32Array(total);
    let added = 0;
    const acks: ReportAck[] = [];
    let received = 0;
    let duplicates = 0;
    let rejected = 0;
    for (const { batch } of group) {
      added = this.mark(batch.numbers, set, added);
      const [u, d, r] = MARKED;
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

    const common = [
      this.owner,
      received,
      duplicates,
      rejected,
      acks.map((a) => a.childId),
      acks.map((a) => a.seq),
      group.map((p) => p.batch.numbers.length),
      acks.map((a) => a.unique),
      acks.map((a) => a.duplicates),
      acks.map((a) => a.rejected),
    ];
    let failure: unknown;
    let logged = 0;
    try {
      let rows: { owned: number }[];
      if (checkpoint) {
        const chunks = this.dirtyList.slice().sort((a, b) => a - b);
        const data = Buffer.allocUnsafe(chunks.length * this.chunkBytes);
        chunks.forEach((c, i) =>
          data.set(bits.subarray(c * this.chunkBytes, (c + 1) * this.chunkBytes), i * this.chunkBytes),
        );
        rows = await this.db.query(CHECKPOINT_SQL, [...common, chunks, data, this.chunkBytes]);
      } else {
        const offsets = LITTLE_ENDIAN ? Buffer.from(set.buffer, 0, added * 4) : Buffer.allocUnsafe(added * 4);
        if (!LITTLE_ENDIAN) for (let i = 0; i < added; i++) offsets.writeUInt32LE(set[i], i * 4);
        logged = offsets.length;
        rows = await this.db.query(LOG_COMMIT_SQL, [...common, offsets]);
      }
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
      // Chunks marked dirty stay dirty: rewriting an unchanged chunk at the next checkpoint is harmless.
      for (let i = 0; i < added; i++) bits[set[i] >>> 3] &= ~(1 << (set[i] & 7));
      for (const p of group) {
        this.pending.delete(p.key);
        p.reject(failure);
      }
      return;
    }
    if (checkpoint) {
      for (const c of this.dirtyList) this.dirty[c] = 0;
      this.dirtyList = [];
      this.logBytes = 0;
    } else {
      this.logBytes += logged;
    }
    this.unique += added;
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
