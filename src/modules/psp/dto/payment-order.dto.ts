// The psp.process payload as the psp validates it.
import { IsInt, IsString, IsUUID, Matches, Min } from 'class-validator';
import type { PaymentOrder } from '../contract.js';

export class PaymentOrderDto implements PaymentOrder {
  @IsUUID()
  id!: string;

  @IsInt()
  @Min(1)
  user_id!: number;

  @IsString()
  @Matches(/^\d{1,12}(\.\d{1,2})?$/, { message: 'amount must be a positive decimal with at most 2 places' })
  amount!: string;

  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be three upper-case letters' })
  currency!: string;
}
