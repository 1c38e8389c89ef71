// Baseline for the RPC benchmark: newline-delimited JSON request/response over a bare net server.
import { createServer } from 'node:net';
import { Decimal } from 'decimal.js';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });
const rates = new Map(Object.entries({ EUR: '1', TL: '17.89', CAD: '1.34', USD: '1.06', GBP: '0.85' }).map(([k, v]) => [k, new D(v)]));
function convert({ amount, from, to }) {
  const f = rates.get(from.trim().toUpperCase());
  const t = rates.get(to.trim().toUpperCase());
  const amt = new D(String(amount));
  return { from, to, amount: amt.toNumber(), result: amt.times(t).div(f).toDecimalPlaces(2).toNumber(), rate: t.div(f).toDecimalPlaces(6).toNumber() };
}
const server = createServer((sock) => {
  sock.setNoDelay(true);
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk) => {
    buf += chunk;
    let i;
    let out = '';
    while ((i = buf.indexOf('\n')) >= 0) {
      const req = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      out += JSON.stringify({ id: req.id, response: convert(req.data) }) + '\n';
    }
    if (out) sock.write(out);
  });
  sock.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
