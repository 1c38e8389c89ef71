// GET /spans?traceId=&rpcMethod=&peer=&limit=: which of this role's kept spans to read, every field optional.
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

export const SPANS_MAX_LIMIT = 2048;
export const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
/** An RPC method, a part name or a peer's host name: letters, digits and . _ / : - only. */
const NAME = /^[\w./:-]{1,200}$/;

export class SpansQueryDto {
  @ApiPropertyOptional({ description: 'W3C trace id: 32 lowercase hex digits' })
  @IsOptional()
  @Matches(TRACE_ID, { message: 'traceId must be 32 lowercase hex digits, not all zero' })
  traceId?: string;

  @ApiPropertyOptional({ description: 'an RPC method (auth.verify) or its prefix up to a dot (auth)' })
  @IsOptional()
  @Matches(NAME, { message: 'rpcMethod must be 1 to 200 letters, digits or . _ / : -' })
  rpcMethod?: string;

  @ApiPropertyOptional({ description: 'the peer: peer.service, server.address or client.address' })
  @IsOptional()
  @Matches(NAME, { message: 'peer must be 1 to 200 letters, digits or . _ / : -' })
  peer?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: SPANS_MAX_LIMIT, default: 100 })
  @IsOptional()
  @Matches(/^[1-9]\d{0,3}$/, { message: `limit must be an integer from 1 to ${SPANS_MAX_LIMIT}` })
  limit?: string;
}
