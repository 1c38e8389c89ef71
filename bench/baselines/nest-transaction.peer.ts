// The stock NestJS peer of POST /transaction/transaction, built the way Nest's documentation shows: the Fastify
// adapter, a global ValidationPipe over a class-validator DTO, the JWT verified in-process with @nestjs/jwt, and
// TypeORM saving the transaction and its outbox row in one database transaction. DATABASE_URL names its (empty)
// database and JWT_SECRET the HS256 secret; it prints its port once listening.
import 'reflect-metadata';
import {
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  ValidationPipe,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsNotEmpty, IsNumberString, IsString, Matches } from 'class-validator';
import { Column, CreateDateColumn, DataSource, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import { randomUUID } from 'node:crypto';

class CreateTransactionDto {
  @IsNumberString()
  amount!: string;

  @Matches(/^[A-Z]{3}$/)
  currency!: string;

  @IsString()
  @IsNotEmpty()
  token!: string;
}

@Entity('peer_transactions')
class PeerTransaction {
  @PrimaryColumn('uuid') id!: string;
  @Column('int') userId!: number;
  @Column('numeric', { precision: 14, scale: 2 }) amount!: string;
  @Column('char', { length: 3 }) currency!: string;
  @Column('varchar', { length: 16, default: 'pending' }) status!: string;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
}

@Entity('peer_outbox')
class PeerOutbox {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid') transactionId!: string;
  @Column('int', { default: 0 }) attempts!: number;
}

const dataSource = new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  entities: [PeerTransaction, PeerOutbox],
  synchronize: true,
  extra: { max: 10 },
});

@Injectable()
class TransactionService {
  constructor(private readonly jwt: JwtService) {}

  async create(dto: CreateTransactionDto) {
    let claims: { user_id: number };
    try {
      claims = await this.jwt.verifyAsync(dto.token, { algorithms: ['HS256'] });
    } catch {
      throw new UnauthorizedException('Token is invalid');
    }
    const tx = Object.assign(new PeerTransaction(), {
      id: randomUUID(),
      userId: claims.user_id,
      amount: dto.amount,
      currency: dto.currency,
      status: 'pending',
    });
    await dataSource.transaction(async (m) => {
      await m.save(tx);
      await m.save(Object.assign(new PeerOutbox(), { transactionId: tx.id }));
    });
    return {
      amount: Number(tx.amount),
      currency: tx.currency,
      user_id: tx.userId,
      id: tx.id,
      status: tx.status,
    };
  }
}

@Controller('transaction')
class TransactionController {
  constructor(private readonly service: TransactionService) {}

  @Post('transaction')
  @HttpCode(200)
  create(@Body() dto: CreateTransactionDto) {
    return this.service.create(dto);
  }
}

@Module({
  imports: [JwtModule.register({ secret: process.env.JWT_SECRET })],
  controllers: [TransactionController],
  providers: [TransactionService],
})
class PeerModule {}

await dataSource.initialize();
const app = await NestFactory.create<NestFastifyApplication>(PeerModule, new FastifyAdapter(), {
  logger: false,
});
app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
await app.listen(0, '127.0.0.1');
process.stdout.write(`${(app.getHttpServer().address() as { port: number }).port}\n`);
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => dataSource.destroy())
    .then(() => process.exit(0));
});
