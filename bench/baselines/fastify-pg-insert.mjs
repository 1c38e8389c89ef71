// Baseline for the transaction benchmark: a bare Fastify route doing one INSERT per request through pg, with a
// pool as large as a role's, answering the inserted row. DATABASE_URL names the database to use.
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query(`CREATE TABLE IF NOT EXISTS bench_transactions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id integer NOT NULL,
  amount numeric(14,2) NOT NULL,
  currency character(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now())`);
const app = Fastify({ logger: false });
app.post('/transaction/transaction', async (req, reply) => {
  const { amount, currency } = req.body ?? {};
  const a = Number(amount);
  if (!Number.isFinite(a) || a <= 0 || typeof currency !== 'string') return reply.code(422).send({ error: 'bad input' });
  const { rows } = await pool.query(
    'INSERT INTO bench_transactions (user_id, amount, currency) VALUES ($1, $2, $3) RETURNING id',
    [1, String(amount), currency],
  );
  return { amount: a, currency, user_id: 1, id: rows[0].id, status: 'pending' };
});
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(app.server.address().port);
process.on('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
