// Payloads of master.report and master.done. The shape is checked here; the numbers themselves are judged by the
// progress store, which counts the ones outside the range instead of refusing the batch.
import { IsArray, IsBoolean, IsInt, IsString, Length, Min } from 'class-validator';
import type { ChildCredential, DoneMessage, ReportBatch } from '../contract.js';

export class ReportBatchDto implements ReportBatch, ChildCredential {
  @IsString({ message: 'childId must be a string' })
  @Length(1, 128, { message: 'childId must be 1-128 characters' })
  childId!: string;

  @IsString({ message: 'secret must be a string' })
  @Length(1, 256, { message: 'secret must be 1-256 characters' })
  secret!: string;

  @IsInt({ message: 'seq must be an integer' })
  @Min(0, { message: 'seq must be at least 0' })
  seq!: number;

  @IsArray({ message: 'numbers must be an array' })
  numbers!: number[];
}

export class DoneMessageDto implements DoneMessage, ChildCredential {
  @IsString({ message: 'childId must be a string' })
  @Length(1, 128, { message: 'childId must be 1-128 characters' })
  childId!: string;

  @IsString({ message: 'secret must be a string' })
  @Length(1, 256, { message: 'secret must be 1-256 characters' })
  secret!: string;

  @IsInt({ message: 'batches must be an integer' })
  @Min(0, { message: 'batches must be at least 0' })
  batches!: number;

  @IsInt({ message: 'numbers must be an integer' })
  @Min(0, { message: 'numbers must be at least 0' })
  numbers!: number;

  @IsBoolean({ message: 'stopped must be a boolean' })
  stopped!: boolean;
}
