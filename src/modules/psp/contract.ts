// The psp module's front door: the payment order the transaction dispatcher sends and the typed client.
import { defineContract, rpcClient, rpcPattern } from '../../platform/transport/contract.js';

/** One payment to execute. `id` is the transaction id and the idempotency key of the payment. */
export interface PaymentOrder {
  id: string;
  user_id: number;
  /** Exact decimal as text (e.g. "100.00"), never a float. */
  amount: string;
  currency: string;
}

export interface PaymentReceipt {
  id: string;
  /** True when this order had already been paid: acknowledged without paying again. */
  duplicate: boolean;
}

export const pspContract = defineContract({
  part: 'psp',
  patterns: {
    // Idempotent by construction: a redelivered order is acknowledged without paying twice.
    process: rpcPattern<PaymentOrder, PaymentReceipt>('psp.process', { idempotent: true }),
  },
});

export const PspClient = rpcClient(pspContract, 'PspClient');
export type PspClient = InstanceType<typeof PspClient>;
