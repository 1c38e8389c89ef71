// The calculator's gRPC listener: MathHelper from the shipped proto (int64 carried as decimal strings, never JS
// numbers), the standard grpc.health.v1.Health and server reflection. What a call does is up to the injected handler,
// so the Nest service (and its event store) sees every call together with the caller's IP.
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath, type ServingStatus } from 'grpc-health-check';
import { ROOT_CONTEXT, context, trace, type Span } from '@opentelemetry/api';
import {
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from '@opentelemetry/semantic-conventions';
import { AppError } from '../../platform/errors/app-error.js';
import { undotPackagelessSymbols } from '../../platform/internals/grpc-reflection.js';
import { isUsableRequestId } from '../../platform/logging/request-context.js';
import { failSpan, startServerSpan } from '../../platform/tracing/tracing.js';
import {
  computeFactorial,
  computeSummation,
  type FactorialInput,
  type FactorialResult,
  type SummationInput,
  type SummationResult,
} from './calculator.math.js';

/**
 * The shipped proto, beside this file both in src/ (jest) and in dist/ (the build copies
 * `src/modules/calculator/proto/*.proto` to `dist/modules/calculator/proto/`).
 */
export const MATH_HELPER_PROTO_PATH = fileURLToPath(new URL('./proto/math_helper.proto', import.meta.url));

/** The service's fully qualified name: the proto has no package. */
export const MATH_HELPER_SERVICE = 'MathHelper';

/** `longs: String` keeps int64 exact; `defaults` gives proto3's zero for absent fields, as Go's server saw them. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function loadMathHelperDefinition(
  extraProtoFiles: readonly string[] = [],
): protoLoader.PackageDefinition {
  return protoLoader.loadSync([MATH_HELPER_PROTO_PATH, ...extraProtoFiles], PROTO_LOADER_OPTIONS);
}

export type { ServingStatus };

export interface GrpcCallMeta {
  /** The caller's IP address as the server saw it (IPv4-mapped IPv6 left as received). */
  clientIp: string;
  /** The raw peer string, `host:port`. */
  peer: string;
  /** The `x-request-id` metadata value, when the caller sent a usable one. */
  requestId?: string;
}

export interface MathHelperHandler {
  summation(input: SummationInput, meta: GrpcCallMeta): Promise<SummationResult>;
  factorial(input: FactorialInput, meta: GrpcCallMeta): Promise<FactorialResult>;
}

/** The bare computation, with no side effects: for tests, benchmarks and as the core of the real handler. */
export const directMathHandler: MathHelperHandler = {
  summation: async (input) => computeSummation(input),
  factorial: async (input) => computeFactorial(input),
};

/** grpc-js reports the peer as `address:port` (IPv6 unbracketed) or `[address]:port` from some transports. */
export function clientIpFromPeer(peer: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  if (bracketed) return bracketed[1];
  const withoutScheme = peer.replace(/^ipv[46]:/, '');
  const lastColon = withoutScheme.lastIndexOf(':');
  if (lastColon > 0 && /^\d+$/.test(withoutScheme.slice(lastColon + 1))) {
    const host = withoutScheme.slice(0, lastColon);
    if (isIP(host)) return host;
  }
  return withoutScheme;
}

const HTTP_TO_GRPC: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  409: grpc.status.ALREADY_EXISTS,
  422: grpc.status.FAILED_PRECONDITION,
  429: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

/** An AppError whose code names a gRPC status keeps it; other AppErrors map by HTTP status; anything else is INTERNAL. */
export function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof AppError) {
    const byName = (grpc.status as unknown as Record<string, grpc.status | undefined>)[err.code];
    const code = typeof byName === 'number' ? byName : (HTTP_TO_GRPC[err.status] ?? grpc.status.UNKNOWN);
    return { code, details: err.message };
  }
  return { code: grpc.status.INTERNAL, details: 'internal error' };
}

/** The gRPC codes that are the server's fault (the semantic conventions' list for gRPC server spans). */
function isServerFault(code: grpc.status): boolean {
  return (
    code === grpc.status.UNKNOWN ||
    code === grpc.status.DEADLINE_EXCEEDED ||
    code === grpc.status.UNIMPLEMENTED ||
    code === grpc.status.INTERNAL ||
    code === grpc.status.UNAVAILABLE ||
    code === grpc.status.DATA_LOSS
  );
}

function metaOf(call: grpc.ServerUnaryCall<unknown, unknown>): GrpcCallMeta {
  const peer = call.getPeer();
  const clientIp = clientIpFromPeer(peer);
  const [requestId] = call.metadata.get('x-request-id');
  return isUsableRequestId(requestId) ? { clientIp, peer, requestId } : { clientIp, peer };
}

/**
 * @grpc/reflection 1.0.x names symbols of a package-less proto with a leading dot (`.MathHelper`): re-keyed under
 * their real names (platform/internals/grpc-reflection.ts), or the boot stops naming the library.
 */
function reflectionFor(definition: protoLoader.PackageDefinition): ReflectionService {
  return undotPackagelessSymbols(new ReflectionService(definition));
}

export interface CalculatorGrpcServerOptions {
  host: string;
  /** 0 binds an ephemeral port; start() returns the bound one. */
  port: number;
  handler: MathHelperHandler;
  /** Told about failures that are not AppErrors (they reach the caller only as INTERNAL). */
  onUnexpectedError?: (err: unknown, method: string) => void;
  credentials?: grpc.ServerCredentials;
}

export class CalculatorGrpcServer {
  private readonly server = new grpc.Server();
  private readonly health = new HealthImplementation({
    '': 'NOT_SERVING',
    [MATH_HELPER_SERVICE]: 'NOT_SERVING',
  });
  private boundPort: number | undefined;

  constructor(private readonly options: CalculatorGrpcServerOptions) {
    const definition = loadMathHelperDefinition([healthProtoPath]);
    const service = (definition[MATH_HELPER_SERVICE] as grpc.ServiceDefinition | undefined) ?? undefined;
    if (!service) throw new Error(`${MATH_HELPER_PROTO_PATH} does not define ${MATH_HELPER_SERVICE}`);
    this.server.addService(service, {
      Summation: this.unary('Summation', (req: SummationInput, meta) => options.handler.summation(req, meta)),
      Factorial: this.unary('Factorial', (req: FactorialInput, meta) => options.handler.factorial(req, meta)),
    });
    this.health.addToServer(this.server);
    reflectionFor(definition).addToServer(this.server);
  }

  /** Binds and starts serving; health turns SERVING. Resolves with the bound port. */
  async start(): Promise<number> {
    const { host, port } = this.options;
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    const credentials = this.options.credentials ?? grpc.ServerCredentials.createInsecure();
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    this.setServingStatus('SERVING');
    return this.boundPort;
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  /** Sets the health status of both the whole server ('') and MathHelper. */
  setServingStatus(status: ServingStatus): void {
    this.health.setStatus('', status);
    this.health.setStatus(MATH_HELPER_SERVICE, status);
  }

  /**
   * Health turns NOT_SERVING, new calls are refused and in-flight calls get up to `graceMs` to finish before
   * the rest are cancelled. Resolves with whether it had to force.
   */
  async stop(graceMs: number): Promise<{ forced: boolean }> {
    this.setServingStatus('NOT_SERVING');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve({ forced: true });
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve({ forced: false });
      });
    });
  }

  private unary<Req, Res>(
    method: string,
    run: (req: Req, meta: GrpcCallMeta) => Promise<Res>,
  ): grpc.handleUnaryCall<Req, Res> {
    // The server span of each call: `MathHelper/<method>`, continuing the caller's traceparent metadata.
    const fullName = `${MATH_HELPER_SERVICE}/${method}`;
    const fail = (err: unknown, callback: grpc.sendUnaryData<Res>, span: Span) => {
      if (!(err instanceof AppError)) this.options.onUnexpectedError?.(err, method);
      const answer = toGrpcError(err);
      if (span.isRecording()) {
        const code = answer.code ?? grpc.status.UNKNOWN;
        span.setAttribute(ATTR_RPC_STATUS_CODE, grpc.status[code]);
        failSpan(span, err instanceof AppError ? err.code : 'internal', isServerFault(code), answer.details);
      }
      span.end();
      callback(answer);
    };
    return (call, callback) => {
      const span = startServerSpan(fullName, {
        traceparent: call.metadata.get('traceparent')[0],
        tracestate: call.metadata.get('tracestate')[0],
      });
      if (span.isRecording()) {
        span.setAttribute(ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM_NAME_VALUE_GRPC);
        span.setAttribute(ATTR_RPC_METHOD, fullName);
      }
      let answer: Promise<Res>;
      try {
        answer = context.with(trace.setSpan(ROOT_CONTEXT, span), run, undefined, call.request, metaOf(call));
      } catch (err) {
        return fail(err, callback, span);
      }
      answer.then(
        (res) => {
          if (span.isRecording()) span.setAttribute(ATTR_RPC_STATUS_CODE, 'OK');
          span.end();
          callback(null, res);
        },
        (err: unknown) => fail(err, callback, span),
      );
    };
  }
}
