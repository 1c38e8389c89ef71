// The ClientWatched reactors: a warn log line, the SSE stream of /calculator/notifications and the webhook.
// None of them blocks the request that triggered it.
import { Subject, type Observable } from 'rxjs';
import type { WatchedClientNotice } from './calculate.use-case.js';
import type { WebhookSender } from './webhook.sender.js';

export interface WatchLog {
  warn(obj: object, msg: string): void;
}

export class WatchNotifier {
  private readonly notices = new Subject<WatchedClientNotice>();

  constructor(
    private readonly log: WatchLog,
    private readonly webhook?: WebhookSender,
  ) {}

  notify(notice: WatchedClientNotice): void {
    this.log.warn(
      { clientIp: notice.clientIp, rule: notice.rule, method: notice.method, door: notice.door },
      'request from a watched address',
    );
    this.notices.next(notice);
    this.webhook?.send(notice);
  }

  stream(): Observable<WatchedClientNotice> {
    return this.notices.asObservable();
  }

  /** Ends every open SSE stream (so the HTTP listener can close). */
  endStreams(): void {
    this.notices.complete();
  }
}
