// Every door of the calculator ends here: gRPC (the MathHelper listener this service owns), HTTP and the
// calculator.* patterns all run the same CalculateUseCase, which records the events and fires the watch reactors.
import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { hostname } from 'node:os';
import type { Observable } from 'rxjs';
import { BootContext } from '../../platform/boot-context.js';
import { Clock } from '../../platform/clock.js';
import { timeOrderedUuid } from '../../platform/ids.js';
import { createLogger } from '../../platform/logging/logger.js';
import { acceptRequestId, requestContext } from '../../platform/logging/request-context.js';
import { CalculateUseCase, type CallOrigin, type WatchedClientNotice } from './calculate.use-case.js';
import { CalculatorGrpcServer, type GrpcCallMeta, type MathHelperHandler } from './calculator.grpc-server.js';
import type { FactorialInput, FactorialResult, SummationInput, SummationResult } from './calculator.math.js';
import { calculatorSettings } from './calculator.settings.js';
import { CalculatorEventLog } from './event-store/calculator-event-log.service.js';
import { WatchNotifier } from './watch.notifier.js';
import { WatchedIpMatcher } from './watched-ip.matcher.js';
import { WebhookSender } from './webhook.sender.js';

const log = createLogger('calculator');

@Injectable()
export class CalculatorService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly calculate: CalculateUseCase;
  private readonly notifier: WatchNotifier;
  private readonly webhook: WebhookSender | undefined;
  private readonly grpc: CalculatorGrpcServer;
  private stopping = false;

  constructor(
    private readonly boot: BootContext,
    clock: Clock,
    private readonly events: CalculatorEventLog,
  ) {
    const settings = boot.settings(calculatorSettings);
    const instance = `${boot.roleLabel}@${hostname()}`;
    this.webhook = settings.webhookUrl
      ? new WebhookSender({ url: settings.webhookUrl, log: createLogger('calculator-webhook') })
      : undefined;
    this.notifier = new WatchNotifier(log, this.webhook);
    this.calculate = new CalculateUseCase({
      append: (...e) => events.append(...e),
      now: () => clock.now(),
      newId: timeOrderedUuid,
      instance,
      watch: settings.watchIps?.length ? new WatchedIpMatcher(settings.watchIps) : undefined,
      onWatched: (notice) => this.notifier.notify(notice),
    });
    const handler: MathHelperHandler = {
      summation: (input, meta) => this.viaGrpc(meta, (origin) => this.summation(input, origin)),
      factorial: (input, meta) => this.viaGrpc(meta, (origin) => this.factorial(input, origin)),
    };
    this.grpc = new CalculatorGrpcServer({
      host: settings.grpcHost,
      port: settings.grpcPort,
      handler,
      onUnexpectedError: (err, method) => log.error({ err, method }, 'unexpected error in gRPC handler'),
    });
    // gRPC health says what /health/ready says about the event store.
    events.onHealthChange((healthy) => {
      if (!this.stopping) this.grpc.setServingStatus(healthy ? 'SERVING' : 'NOT_SERVING');
    });
  }

  summation(input: SummationInput, origin: CallOrigin): Promise<SummationResult> {
    return this.calculate.summation(input, origin);
  }

  factorial(input: FactorialInput, origin: CallOrigin): Promise<FactorialResult> {
    return this.calculate.factorial(input, origin);
  }

  notifications(): Observable<WatchedClientNotice> {
    return this.notifier.stream();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.events.rebuild();
    const port = await this.grpc.start();
    log.info({ port, host: this.boot.settings(calculatorSettings).grpcHost }, 'grpc listener open');
  }

  /** Stop taking gRPC calls (in-flight ones get a grace period) and end the SSE streams before HTTP closes. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    const graceMs = Math.min(5000, Math.floor(this.boot.platform.shutdownGraceMs / 3));
    const { forced } = await this.grpc.stop(graceMs);
    log.info({ forced }, `closed grpc listener :${this.grpc.port}`);
    this.notifier.endStreams();
    log.info('closed notification streams');
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.webhook) return;
    const { undelivered } = await this.webhook.close(Math.min(2000, this.boot.platform.shutdownGraceMs / 4));
    log.info({ undelivered }, 'closed webhook sender');
  }

  private viaGrpc<R>(meta: GrpcCallMeta, run: (origin: CallOrigin) => Promise<R>): Promise<R> {
    const requestId = acceptRequestId(meta.requestId);
    return requestContext.run({ requestId }, () => run({ door: 'grpc', clientIp: meta.clientIp, requestId }));
  }
}
