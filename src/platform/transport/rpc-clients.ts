// Providers for typed clients: a module lists the clients it uses, each built on the hub's channel for its contract.
import type { Provider } from '@nestjs/common';
import type { ContractDef, TypedClientClass } from './contract.js';
import { RpcHub } from './rpc-hub.js';

export function provideClients(...clients: Array<TypedClientClass<ContractDef>>): Provider[] {
  return clients.map((Client) => ({
    provide: Client,
    useFactory: (hub: RpcHub) => new Client(hub.channel(Client.contract)),
    inject: [RpcHub],
  }));
}
