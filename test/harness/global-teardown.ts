// Jest global teardown: replaced by the topology harness's database shutdown.
export default async function globalTeardown(): Promise<void> {}
