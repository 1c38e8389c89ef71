// The embedded PostgreSQL standing in for the compose `postgres` service. Keeps its data directory and port
// across a restart, as a container with a named volume would, so the roles' DATABASE_URL stays valid.
import {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
} from '../../src/platform/database/embedded-postgres.js';

export class LocalPostgres {
  private server?: EmbeddedPostgres;
  private port?: number;

  constructor(
    readonly name: string,
    private readonly opts: { dataDir: string; database: string; log: (line: string) => void },
  ) {}

  get running(): boolean {
    return this.server !== undefined;
  }

  get url(): string {
    if (!this.server) throw new Error('PostgreSQL is not running');
    return this.server.url;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.server = await startEmbeddedPostgres({
      dataDir: this.opts.dataDir,
      database: this.opts.database,
      port: this.port,
      log: (line) => {
        if (!line.startsWith('postgres: ')) this.opts.log(`${this.name}: ${line}`);
      },
    });
    this.port = this.server.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await server.stop();
    this.opts.log(`${this.name}: stopped`);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The URL is for the developer on this machine (as `docker compose exec postgres psql` would be). */
  status() {
    return {
      name: this.name,
      state: this.running ? 'running' : 'stopped',
      port: this.port,
      ...(this.server ? { url: this.server.url } : {}),
    };
  }
}
