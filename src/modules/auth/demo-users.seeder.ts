// Seeds the original's demo users (alice, becky, charlie — charlie disabled) when AUTH_SEED_DEMO_USERS is on,
// which it is by default outside production. Existing rows are left alone.
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import { createLogger } from '../../platform/logging/logger.js';
import { authSettings } from './auth.settings.js';
import { PasswordHasher } from './password.hasher.js';
import { UsersRepository } from './users.repository.js';

export const DEMO_USERS = [
  { id: 1, username: 'alice', password: 'password', enabled: true },
  { id: 2, username: 'becky', password: 'password', enabled: true },
  { id: 3, username: 'charlie', password: 'password', enabled: false },
] as const;

@Injectable()
export class DemoUsersSeeder implements OnModuleInit {
  private readonly log = createLogger('auth');
  private readonly enabled: boolean;

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    boot: BootContext,
  ) {
    const configured = boot.settings(authSettings).seedDemoUsers;
    this.enabled = configured ?? boot.platform.nodeEnv !== 'production';
  }

  async onModuleInit(): Promise<void> {
    if (!this.enabled) return;
    const rows = await Promise.all(
      DEMO_USERS.map(async (u) => ({
        id: u.id,
        username: u.username,
        enabled: u.enabled,
        passwordHash: await this.hasher.hash(u.password),
      })),
    );
    const inserted = await this.users.insertMissing(rows);
    if (inserted.length) this.log.info({ users: inserted }, 'seeded demo users');
  }
}
