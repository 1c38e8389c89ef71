// Who a bearer token speaks for, asked of auth.verify once per token and then remembered until the answer's `exp`
// (the token's, capped by auth at JWT_TTL_S from its answer). Tokens are self-contained HS256 JWTs that auth never revokes, so a verified answer holds for the whole
// life of the token: the cache changes how often auth is asked, never what a request is allowed to do. Refusals
// (invalid, expired) are not remembered; they go to auth every time. After JWT_SECRET is rotated, tokens of the
// old secret keep being accepted here until they expire (at most JWT_TTL_S).
import { Injectable } from '@nestjs/common';
import { Clock } from '../../platform/clock.js';
import { AuthClient, type VerifiedUser } from '../auth/contract.js';

/** Distinct live tokens remembered; the oldest is forgotten first. */
export const VERIFIED_TOKENS_MAX = 10_000;

@Injectable()
export class VerifiedTokenCache {
  private readonly verified = new Map<string, VerifiedUser>();
  /** Concurrent first uses of one token share a single auth.verify call. */
  private readonly asking = new Map<string, Promise<VerifiedUser>>();

  constructor(
    private readonly auth: AuthClient,
    private readonly clock: Clock,
  ) {}

  async verify(token: string): Promise<VerifiedUser> {
    const known = this.verified.get(token);
    if (known) {
      if (this.nowS() < known.exp) return { ...known };
      this.verified.delete(token);
    }
    let answer = this.asking.get(token);
    if (!answer) {
      answer = this.ask(token);
      this.asking.set(token, answer);
    }
    return { ...(await answer) };
  }

  /** How many tokens are remembered (for tests and the operations view). */
  get size(): number {
    return this.verified.size;
  }

  private async ask(token: string): Promise<VerifiedUser> {
    try {
      const user = await this.auth.verify({ token });
      if (Number.isFinite(user.exp) && this.nowS() < user.exp) {
        if (this.verified.size >= VERIFIED_TOKENS_MAX)
          this.verified.delete(this.verified.keys().next().value!);
        this.verified.set(token, user);
      }
      return user;
    } finally {
      this.asking.delete(token);
    }
  }

  private nowS(): number {
    return this.clock.now().getTime() / 1000;
  }
}
