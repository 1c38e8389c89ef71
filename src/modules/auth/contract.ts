// The auth module's front door: token verification for other modules, its typed errors and the typed client.
import { defineContract, rpcClient, rpcPattern } from '../../platform/transport/contract.js';

export interface VerifyTokenRequest {
  token: string;
}

/** Who a valid token speaks for, from its claims. */
export interface VerifiedUser {
  user_id: number;
  username: string;
  enabled: boolean;
  /**
   * Until when (seconds since the epoch) a caller may reuse this answer for the same token: the token's expiry,
   * but never more than JWT_TTL_S after auth answered, so a rotated secret stops every remembered token in time.
   */
  exp: number;
}

/** AppError codes auth.verify answers with (status 401). */
export const TOKEN_ERRORS = {
  expired: 'token_expired',
  invalid: 'token_invalid',
} as const;

export const authContract = defineContract({
  part: 'auth',
  patterns: {
    verify: rpcPattern<VerifyTokenRequest, VerifiedUser>('auth.verify', { idempotent: true }),
  },
});

export const AuthClient = rpcClient(authContract, 'AuthClient');
export type AuthClient = InstanceType<typeof AuthClient>;
