// The master's front door for children: the report and done patterns and their typed client.
import { defineContract, rpcClient, rpcPattern } from '../../platform/transport/contract.js';

/** One batch of drawn numbers; `(childId, seq)` identifies it, so a retried batch is counted once. */
export interface ReportBatch {
  childId: string;
  seq: number;
  numbers: number[];
}

export interface ReportAck {
  childId: string;
  seq: number;
  /** True when this `(childId, seq)` had already been recorded: nothing was counted again. */
  replayed: boolean;
  /** Numbers of this batch that were new to the master range (0 for a replay). */
  unique: number;
  duplicates: number;
  rejected: number;
}

/** A child's last word: how many batches and numbers it sent, and whether it was stopped early. */
export interface DoneMessage {
  childId: string;
  batches: number;
  numbers: number;
  stopped: boolean;
}

export interface DoneAck {
  childId: string;
}

/**
 * A child proves it is the one the master started under its id with the secret handed to it at spawn
 * (CHILD_SECRET); the master answers an unknown id or a wrong secret with 403 `child_not_recognised`.
 */
export interface ChildCredential {
  secret: string;
}

export const MasterContract = defineContract({
  part: 'master',
  patterns: {
    report: rpcPattern<ReportBatch & ChildCredential, ReportAck>('master.report', { idempotent: true }),
    done: rpcPattern<DoneMessage & ChildCredential, DoneAck>('master.done', { idempotent: true }),
  },
});

export const MasterClient = rpcClient(MasterContract, 'MasterClient');
export type MasterClient = InstanceType<typeof MasterClient>;
