// Jest global teardown: stops the embedded PostgreSQL started by global setup.
export default async function globalTeardown() {
  await globalThis.__polyrolePg?.stop();
}
