// Owns the master's ProgressStore inside Nest: loads it at boot (before the TCP listener opens, so no report
// finds it unloaded) and folds the log into the chunks at shutdown, after the last child has reported.
import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BootContext } from '../../../platform/boot-context.js';
import { createLogger } from '../../../platform/logging/logger.js';
import type { ReportAck, ReportBatch } from '../contract.js';
import { masterSettings } from '../master.settings.js';
import { type ChildProgress, type ProgressSnapshot, ProgressStore } from './progress.store.js';

@Injectable()
export class ProgressService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = createLogger('master-progress');
  private readonly store: ProgressStore;

  constructor(db: DataSource, boot: BootContext) {
    const { range } = boot.settings(masterSettings);
    this.store = new ProgressStore(db, { range: { min: 0, max: range } });
  }

  async onModuleInit(): Promise<void> {
    await this.store.load();
    const s = this.store.snapshot();
    this.log.info(
      { uniqueNumbers: s.uniqueNumbers, received: s.received, range: s.range },
      'progress loaded',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.checkpoint();
    this.log.info({ uniqueNumbers: this.store.uniqueNumbers }, 'progress checkpointed');
  }

  ingest(batch: ReportBatch): Promise<ReportAck> {
    return this.store.ingest(batch);
  }

  snapshot(): ProgressSnapshot {
    return this.store.snapshot();
  }

  childProgress(childId: string): ChildProgress {
    return this.store.childProgress(childId);
  }
}
