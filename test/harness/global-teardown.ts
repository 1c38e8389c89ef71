// Jest global teardown: stops the embedded PostgreSQL started by global setup.
export default async function globalTeardown(): Promise<void> {
  await globalThis.__polyrolePg?.stop();
}
