// Baseline for the exchange benchmark: a bare Fastify route doing the same decimal arithmetic, no framework.
import Fastify from 'fastify';
import { Decimal } from 'decimal.js';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
const rates = new Map(Object.entries({ EUR: '1', TL: '17.89', CAD: '1.34', USD: '1.06', GBP: '0.85' }).map(([k, v]) => [k, new D(v)]));
const app = Fastify({ logger: false });
app.post('/exchange', async (req, reply) => {
  const { amount, from, to } = req.body ?? {};
  const f = rates.get(String(from).trim().toUpperCase());
  const t = rates.get(String(to).trim().toUpperCase());
  const a = Number(amount);
  if (!f || !t || !Number.isFinite(a) || a <= 0) return reply.code(400).send({ error: 'bad input' });
  const amt = new D(String(amount));
  return {
    from: String(from).trim().toUpperCase(),
    to: String(to).trim().toUpperCase(),
    amount: amt.toNumber(),
    result: amt.times(t).div(f).toDecimalPlaces(2).toNumber(),
    rate: t.div(f).toDecimalPlaces(6).toNumber(),
  };
});
await app.listen({ port: 0, host: '127.0.0.1' });
console.log(app.server.address().port);
