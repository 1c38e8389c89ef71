// A stand-in child for the process spawner spec; STUB_MODE picks its behaviour.
/* global setInterval */
const mode = process.env.STUB_MODE ?? 'env';
if (mode === 'env') {
  process.stderr.write(JSON.stringify(process.env));
} else if (mode.startsWith('exit:')) {
  process.stderr.write(process.env.STUB_STDERR ?? '');
  process.exitCode = Number(mode.slice(5));
} else if (mode === 'graceful') {
  process.on('SIGTERM', () => {
    process.stderr.write('reporting what I have\n');
    process.exit(0);
  });
  process.stderr.write('ready\n');
  setInterval(() => {}, 1000);
} else if (mode === 'stubborn') {
  process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\n'));
  process.stderr.write('ready\n');
  setInterval(() => {}, 1000);
}
