// The psp's only door: the psp.process message pattern (HTTP serves just health, metrics and docs).
import { Controller } from '@nestjs/common';
import { RpcHandler } from '../../platform/transport/rpc-handler.decorator.js';
import { pspContract, type PaymentReceipt } from './contract.js';
import { PaymentOrderDto } from './dto/payment-order.dto.js';
import { PspService } from './psp.service.js';

@Controller()
export class PspController {
  constructor(private readonly psp: PspService) {}

  @RpcHandler(pspContract.patterns.process)
  process(order: PaymentOrderDto): Promise<PaymentReceipt> {
    return this.psp.process(order);
  }
}
