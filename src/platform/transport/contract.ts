// Contracts: the message patterns a part serves, with their request/response types and whether a retry is safe.
// A module's contract.ts declares one with defineContract() and publishes a typed client made by rpcClient().
import type { Type } from '@nestjs/common';

/** A part's name as the role table spells it; the platform treats it as an opaque label (it knows no role). */
export type PartName = string;

export interface PatternDef<Req = unknown, Res = unknown> {
  readonly pattern: string;
  /** Only idempotent patterns are retried after a failed attempt. */
  readonly idempotent: boolean;
  /** Phantom fields carrying the types; never set at run time. */
  readonly __req?: Req;
  readonly __res?: Res;
}

export function rpcPattern<Req, Res>(pattern: string, opts: { idempotent: boolean }): PatternDef<Req, Res> {
  return { pattern, idempotent: opts.idempotent };
}

export interface ContractDef<
  P extends Record<string, PatternDef<any, any>> = Record<string, PatternDef<any, any>>,
> {
  /** The part that serves these patterns; the client calls it in-process when that part is booted here. */
  readonly part: PartName;
  readonly patterns: P;
}

export function defineContract<P extends Record<string, PatternDef<any, any>>>(
  c: ContractDef<P>,
): ContractDef<P> {
  return c;
}

export interface CallOptions {
  /** Overrides RPC_TIMEOUT_MS for this call. */
  timeoutMs?: number;
}

/** What a typed client uses to send: implemented by the platform (in-process or Nest TCP). */
export interface RpcChannel {
  call<Req, Res>(def: PatternDef<Req, Res>, req: Req, opts?: CallOptions): Promise<Res>;
}

export type TypedClient<C extends ContractDef> = {
  [K in keyof C['patterns']]: C['patterns'][K] extends PatternDef<infer Req, infer Res>
    ? (req: Req, opts?: CallOptions) => Promise<Res>
    : never;
};

export interface TypedClientClass<C extends ContractDef> {
  new (channel: RpcChannel): TypedClient<C>;
  readonly contract: C;
}

/** Builds the typed client class for a contract: one method per pattern. */
export function rpcClient<C extends ContractDef>(contract: C, name: string): TypedClientClass<C> {
  const Client = class {
    static readonly contract = contract;
    constructor(channel: RpcChannel) {
      for (const [method, def] of Object.entries(contract.patterns)) {
        (this as Record<string, unknown>)[method] = (req: unknown, opts?: CallOptions) =>
          channel.call(def, req, opts);
      }
    }
  };
  Object.defineProperty(Client, 'name', { value: name });
  return Client as unknown as TypedClientClass<C>;
}

export type ClientToken = Type<unknown> & { readonly contract: ContractDef };
