// A server that behaves like seed 001's Python one: one connection at a time, reads one message (one recv of up
// to 1024 bytes), answers `Your Message has been received: b'<msg>'` and closes. Prints its port on stdout, then
// `connection N` for each connection it serves.
import { createServer } from 'node:net';

/** Python's repr() of a bytes object, as the seed's server formats the message it got. */
function bytesRepr(buf) {
  let out = '';
  for (const b of buf) {
    if (b === 0x5c) out += '\\\\';
    else if (b === 0x27) out += "\\'";
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x09) out += '\\t';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `b'${out}'`;
}

let connections = 0;
const waiting = [];
let serving = false;

// Sequential like the seed: accepted connections wait (paused) until the one being served has closed.
function serveNext() {
  const socket = waiting.shift();
  if (!socket) return;
  serving = true;
  connections++;
  process.stdout.write(`connection ${connections}\n`);
  socket.once('data', (chunk) => {
    const msg = chunk.subarray(0, 1024);
    let end = msg.length;
    while (end > 0 && [0x20, 0x0a, 0x0d, 0x09].includes(msg[end - 1])) end--; // Python's rstrip()
    socket.end(`Your Message has been received: ${bytesRepr(msg.subarray(0, end))}\n`);
  });
  socket.once('close', () => {
    serving = false;
    serveNext();
  });
  socket.resume();
}

const server = createServer({ pauseOnConnect: true }, (socket) => {
  socket.on('error', () => undefined);
  waiting.push(socket);
  if (!serving) serveNext();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
