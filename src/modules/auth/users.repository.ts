// The users table, read and written only by the auth module.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StoredUser {
  id: number;
  username: string;
  passwordHash: string;
  enabled: boolean;
}

export interface NewUser {
  id?: number;
  username: string;
  passwordHash: string;
  enabled: boolean;
}

@Injectable()
export class UsersRepository {
  constructor(private readonly db: DataSource) {}

  async findByUsername(username: string): Promise<StoredUser | undefined> {
    const rows: StoredUser[] = await this.db.query(
      `SELECT id, username, password_hash AS "passwordHash", enabled FROM users WHERE username = $1`,
      [username],
    );
    return rows[0];
  }

  /** Inserts users that do not exist yet (by id or username); returns the usernames inserted. */
  async insertMissing(users: NewUser[]): Promise<string[]> {
    const inserted: string[] = [];
    await this.db.transaction(async (tx) => {
      for (const u of users) {
        const rows: Array<{ username: string }> = await tx.query(
          `INSERT INTO users (id, username, password_hash, enabled)
           VALUES (COALESCE($1, nextval(pg_get_serial_sequence('users', 'id'))), $2, $3, $4)
           ON CONFLICT DO NOTHING RETURNING username`,
          [u.id ?? null, u.username, u.passwordHash, u.enabled],
        );
        inserted.push(...rows.map((r) => r.username));
      }
      // Explicit ids bypass the sequence; move it past them so later inserts do not collide.
      await tx.query(
        `SELECT setval(pg_get_serial_sequence('users', 'id'), GREATEST((SELECT max(id) FROM users), 1))`,
      );
    });
    return inserted;
  }
}
