// Root postinstall: after `npm ci`, the Node that npm scripts run on (node_modules/.bin first on PATH) must be 24 or
// newer. It is when this machine's Node is, or when npm installed polyrole-node-runtime's Node 24 for this platform;
// otherwise stop here with what to do, instead of failing later on a dependency that needs a newer Node.
const MINIMUM = 24;
const major = Number(process.versions.node.split('.')[0]);
if (major < MINIMUM) {
  const platform = `${process.platform}-${process.arch}`;
  process.stderr.write(
    `polyrole needs Node ${MINIMUM} or newer; npm runs on Node ${process.versions.node} here and the npm registry has ` +
      `no Node ${MINIMUM} build this project installs for ${platform} (only linux-x64 and linux-arm64). ` +
      `Install Node ${MINIMUM} (https://nodejs.org/en/download) and run npm ci again.\n`,
  );
  process.exit(1);
}
