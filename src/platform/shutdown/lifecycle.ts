// Process lifecycle shared by health and shutdown: readiness turns false the moment shutdown begins.
import { Injectable } from '@nestjs/common';

@Injectable()
export class Lifecycle {
  private shuttingDown = false;
  readonly bootedAt = Date.now();

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  beginShutdown(): void {
    this.shuttingDown = true;
  }
}
