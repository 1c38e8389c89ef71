// A user who can log in. Only a salted scrypt hash of the password is stored (see PasswordHasher).
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const USERS_TABLE = 'users';

@Entity({ name: USERS_TABLE })
export class UserEntity {
  @PrimaryGeneratedColumn('increment')
  id!: number;

  @Column({ type: 'varchar', length: 128, unique: true })
  username!: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
