// GET /console and everything the page calls: its built assets, the deployment view, the module panels, the
// traces joined across roles, the proxied live streams and the two operations (start and stop a child). Every
// route sits behind the operations guard. In a multi-role deployment the reads and the operations go, bounded,
// to the role that hosts the module.
import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Param,
  Post,
  Query,
  Req,
  Res,
  UseGuards,
  type OnModuleDestroy,
} from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFile } from 'node:fs/promises';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import { Protected } from '../../platform/http/access.decorator.js';
import {
  OPERATIONS_COOKIE,
  OPERATIONS_COOKIE_PATH,
  OperationsGuard,
  SameOriginGuard,
  bearer,
  newOperationsSession,
} from '../../platform/http/operations.guard.js';
import { CONSOLE_CSP, SECURITY_HEADERS } from '../../platform/http/security-headers.js';
import { DeploymentService, type DeploymentView } from './deployment.service.js';
import { PanelsService, STREAMS, type Panel, type PanelPart, type StreamName } from './panels.service.js';
import { ROLE_TABLE, type RoleName } from '../role-table.js';
import { TRACE_ID } from './dto/spans-query.dto.js';
import { TracesService, type TraceLists, type TraceView } from './traces.service.js';

const UI = new URL('./ui/', import.meta.url);
// A Map: a plain object would answer `constructor` or `__proto__` with what it inherits.
const ASSETS = new Map([
  ['console.js', 'text/javascript; charset=utf-8'],
  ['console.css', 'text/css; charset=utf-8'],
  // A file of its own: a data: URL icon is blocked by the page's Content-Security-Policy (default-src 'self').
  ['favicon.svg', 'image/svg+xml'],
]);
/** The browser's EventSource waits this long before it reconnects to a stream whose source went away. */
const STREAM_RETRY_MS = 2000;

@ApiTags('console')
@ApiBearerAuth()
@Protected()
@UseGuards(OperationsGuard)
@Controller('console')
export class ConsoleController implements OnModuleDestroy {
  private readonly files = new Map<string, Buffer>();
  private readonly streams = new Set<AbortController>();

  constructor(
    private readonly boot: BootContext,
    private readonly deployment: DeploymentService,
    private readonly panelsService: PanelsService,
    private readonly traces: TracesService,
  ) {}

  private async file(name: string): Promise<Buffer> {
    let body = this.files.get(name);
    if (!body) {
      try {
        body = await readFile(new URL(name, UI));
      } catch {
        throw new AppError(404, 'console_not_built', `Console asset ${name} is missing; run npm run build`);
      }
      this.files.set(name, body);
    }
    return body;
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  @Header('content-security-policy', CONSOLE_CSP)
  page(): Promise<Buffer> {
    return this.file('index.html');
  }

  @ApiExcludeEndpoint()
  @Get('assets/:name')
  async asset(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    const type = ASSETS.get(name);
    if (!type) throw new AppError(404, 'not_found', `No console asset ${name}`);
    void reply.header('content-type', type).header('cache-control', 'no-cache');
    return this.file(name);
  }

  @Get('api/deployment')
  @Header('cache-control', 'no-store')
  deploymentView(): Promise<DeploymentView> {
    return this.deployment.view();
  }

  @Get('api/panels')
  @Header('cache-control', 'no-store')
  panels(): Promise<Record<PanelPart, Panel>> {
    return this.panelsService.panels();
  }

  /** Recent and slowest traces across the deployment, or with ?edge=from->to that call edge's slowest calls. */
  @Get('api/traces')
  traceLists(@Query('edge') edge?: string): Promise<TraceLists> {
    if (edge === undefined) return this.traces.lists();
    const [from, to] = String(edge).split('->');
    const calls = (ROLE_TABLE as Record<string, { calls: readonly string[] }>)[from]?.calls;
    if (!calls?.includes(to))
      throw new AppError(400, 'validation_failed', 'edge must name a call of the role table, as from->to');
    return this.traces.edge(from as RoleName, to as RoleName);
  }

  /** One trace's spans from every role, with the traces linked to it. */
  @Get('api/traces/:traceId')
  trace(@Param('traceId') traceId: string): Promise<TraceView> {
    if (!TRACE_ID.test(traceId))
      throw new AppError(400, 'validation_failed', 'traceId must be 32 lowercase hex digits, not all zero');
    return this.traces.trace(traceId);
  }

  /** A module's live stream, relayed from the role that hosts the module; ends (and the page retries) if it goes. */
  @Get('api/streams/:name')
  async stream(
    @Param('name') name: string,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const source = Object.hasOwn(STREAMS, name) ? STREAMS[name as StreamName] : undefined;
    if (!source) throw new AppError(404, 'not_found', `No console stream ${name}`);
    const node = await this.panelsService.hostOf(source.part);
    const abort = new AbortController();
    this.streams.add(abort);
    req.raw.once('close', () => abort.abort());
    reply.hijack();
    const out = reply.raw;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': String(req.id),
      ...SECURITY_HEADERS,
    });
    out.write(`retry: ${STREAM_RETRY_MS}\n\n`);
    try {
      if (!node) throw new Error(`no ${source.part} is up`);
      // The bound covers only the answer's headers: past them, only the page leaving or shutdown ends the relay.
      const connecting = setTimeout(
        () => abort.abort(new Error('no answer in time')),
        this.deployment.fetchTimeoutMs,
      );
      const res = await fetch(`${node}${source.path}`, {
        headers: {
          accept: 'text/event-stream',
          ...this.deployment.authHeaders(),
          ...this.deployment.untracedHeaders(),
        },
        signal: abort.signal,
      }).finally(() => clearTimeout(connecting));
      if (!res.ok || !res.body) throw new Error(`${source.path} answered ${res.status}`);
      const reader = res.body.getReader();
      abort.signal.addEventListener('abort', () => void reader.cancel().catch(() => undefined));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        out.write(value);
      }
    } catch (e) {
      if (!req.raw.destroyed)
        out.write(`event: source-down\ndata: ${JSON.stringify({ error: (e as Error).message })}\n\n`);
    } finally {
      this.streams.delete(abort);
      out.end();
    }
  }

  @Post('api/master/children')
  @UseGuards(SameOriginGuard)
  createChild(@Body() body: unknown, @Res() reply: FastifyReply): Promise<void> {
    return this.relay('master', 'POST', '/master/create-child', reply, body ?? {});
  }

  @Delete('api/master/children/:id')
  @UseGuards(SameOriginGuard)
  stopChild(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    return this.relay('master', 'DELETE', `/master/children/${encodeURIComponent(id)}`, reply);
  }

  /**
   * Exchanges the token for the session cookie a browser needs (its EventSource cannot send headers): random,
   * expiring, sent only to /console, and Secure except over plain HTTP outside production.
   */
  @Post('session')
  @Header('cache-control', 'no-store')
  session(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    const { consoleToken: token, consoleSessionTtlS: ttlS, nodeEnv } = this.boot.platform;
    if (token && bearer(req.headers.authorization) === undefined)
      throw new AppError(400, 'bearer_required', 'Send the console token as Authorization: Bearer');
    if (token) {
      const value = newOperationsSession(token, Math.floor(Date.now() / 1000) + ttlS);
      const secure = nodeEnv === 'production' || req.protocol === 'https' ? '; Secure' : '';
      void reply.header(
        'set-cookie',
        `${OPERATIONS_COOKIE}=${value}; Path=${OPERATIONS_COOKIE_PATH}; Max-Age=${ttlS}; HttpOnly; SameSite=Strict${secure}`,
      );
    }
    void reply.status(204).send();
  }

  /** Forwards an operation to the module's own endpoint and answers with what it answered. */
  private async relay(part: string, method: string, path: string, reply: FastifyReply, body?: unknown) {
    const node = await this.panelsService.hostOf(part);
    if (!node) throw new AppError(503, 'peer_unavailable', `No ${part} is up`);
    let res: Awaited<ReturnType<DeploymentService['request']>>;
    try {
      // An operator's action is traced like any request: it is one of the things the traces are for.
      res = await this.deployment.request(node, path, { method, body, traced: true });
    } catch (e) {
      throw new AppError(503, 'peer_unavailable', `${part} did not answer: ${(e as Error).message}`);
    }
    void reply
      .status(res.status)
      .header('content-type', res.contentType || 'application/json')
      .send(res.text);
  }

  onModuleDestroy(): void {
    for (const s of this.streams) s.abort();
  }
}
