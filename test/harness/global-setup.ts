// Jest global setup: replaced by the topology harness's database bootstrap.
export default async function globalSetup(): Promise<void> {}
