// The child role's job: runs ChildJob with the child's settings and reports through the typed MasterClient.
// Exit code 0 once every batch and `done` are acknowledged; on SIGTERM it stops drawing, delivers what it drew
// and the process exits 0. A failure's reason also goes to stderr, whose tail the master shows for the child.
import { Injectable } from '@nestjs/common';
import { SpanKind, context, trace, type Span } from '@opentelemetry/api';
import { BootContext } from '../../../platform/boot-context.js';
import { createLogger } from '../../../platform/logging/logger.js';
import type { Job } from '../../../platform/part.js';
import { extractTraceContext, failSpan, platformTracer } from '../../../platform/tracing/tracing.js';
import { MasterClient } from '../contract.js';
import { childSettings } from '../master.settings.js';
import { ChildJob, jobSpecOf } from './child.job.js';
import { createRandom } from './random.util.js';

@Injectable()
export class ChildRunnerJob implements Job {
  private readonly log = createLogger('child');
  private readonly job: ChildJob;
  private readonly id: string;
  private readonly traceparent?: string;

  constructor(boot: BootContext, master: MasterClient) {
    const s = boot.settings(childSettings);
    this.id = s.id;
    this.traceparent = s.traceparent;
    this.job = new ChildJob(jobSpecOf(s), {
      random: createRandom(s.seed),
      report: (batch) => master.report({ ...batch, secret: s.secret }),
      done: (message) => master.done({ ...message, secret: s.secret }),
      retry: { attempts: s.reportAttempts },
      onRetry: (what, attempt, err) =>
        this.log.warn(
          { child: this.id, what, attempt, err: (err as Error).message },
          'report failed; retrying',
        ),
    });
    this.log.info(
      { child: s.id, min: s.min, max: s.max, count: s.count, seeded: s.seed !== undefined },
      'child job configured',
    );
  }

  /** The whole job is one span under the master's spawn span, so every report joins the creating request's trace. */
  async run(): Promise<number> {
    const span = platformTracer().startSpan(
      'child job',
      { kind: SpanKind.INTERNAL, attributes: { 'polyrole.child.id': this.id } },
      extractTraceContext({ traceparent: this.traceparent }),
    );
    return context.with(trace.setSpan(context.active(), span), () => this.runJob(span));
  }

  private async runJob(span: Span): Promise<number> {
    try {
      const result = await this.job.run();
      this.log.info({ child: this.id, ...result }, 'child job finished');
      return 0;
    } catch (err) {
      failSpan(span, 'child_failed', true, (err as Error)?.message);
      this.fail(err);
      return 1;
    } finally {
      span.end();
    }
  }

  async stop(): Promise<void> {
    try {
      const result = await this.job.stop();
      this.log.info({ child: this.id, ...result }, 'child job stopped; reported what it had');
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    this.log.error({ child: this.id, err: message }, 'child job failed');
    process.stderr.write(`child ${this.id} failed: ${message}\n`);
  }
}
