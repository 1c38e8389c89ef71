// Baseline for the master ingest benchmark: a bare net server that speaks the Nest TCP framing (`<length>#<json>`),
// parses each master.report batch, counts its numbers and acknowledges it. No validation, bitmap or database.
import { createServer } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

const server = createServer((sock) => {
  sock.setNoDelay(true);
  const decoder = new StringDecoder('utf8');
  let buf = '';
  let expected = -1;
  sock.on('data', (chunk) => {
    buf += decoder.write(chunk);
    let out = '';
    for (;;) {
      if (expected < 0) {
        const hash = buf.indexOf('#');
        if (hash < 0) break;
        expected = Number(buf.slice(0, hash));
        buf = buf.slice(hash + 1);
      }
      if (buf.length < expected) break;
      const req = JSON.parse(buf.slice(0, expected));
      buf = buf.slice(expected);
      expected = -1;
      const { childId, seq, numbers: batch } = req.data;
      const reply = JSON.stringify({
        id: req.id,
        response: { childId, seq, replayed: false, unique: batch.length, duplicates: 0, rejected: 0 },
        isDisposed: true,
      });
      out += `${reply.length}#${reply}`;
    }
    if (out) sock.write(out);
  });
  sock.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
