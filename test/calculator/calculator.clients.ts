// Clients for the calculator's doors as an outsider sees them: gRPC from the shipped proto (dist/), gRPC health and
// reflection, HTTP from a chosen local address, the Nest TCP wire, plus a webhook receiver and a cuttable TCP proxy.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { TcpConnection } from '../../src/platform/transport/tcp-connection.js';
import { ROOT } from '../harness/topology.js';

/** The proto as the build ships it: a client generated from it must work unchanged. */
export const SHIPPED_PROTO = resolve(ROOT, 'dist/modules/calculator/proto/math_helper.proto');

type Unary = (
  req: object,
  metadata: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res: any) => void,
) => grpc.ClientUnaryCall;

export interface MathHelperClient extends grpc.Client {
  Summation: Unary;
  Factorial: Unary;
}

export function mathHelperClient(port: number): MathHelperClient {
  // Standard proto-loader options for int64 kept exact: nothing borrowed from the server's code.
  const def = protoLoader.loadSync(SHIPPED_PROTO, { keepCase: true, longs: String, defaults: true });
  const Ctor = grpc.loadPackageDefinition(def).MathHelper as grpc.ServiceClientConstructor;
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as MathHelperClient;
}

export function grpcCall(
  client: MathHelperClient,
  method: 'Summation' | 'Factorial',
  req: object,
  requestId?: string,
): Promise<{ err: grpc.ServiceError | null; res: any }> {
  const metadata = new grpc.Metadata();
  if (requestId) metadata.set('x-request-id', requestId);
  return new Promise((done) => client[method](req, metadata, (err, res) => done({ err, res })));
}

export function grpcHealth(port: number, service = ''): Promise<string> {
  const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
  const Health = (grpc.loadPackageDefinition(def) as any).grpc.health.v1
    .Health as grpc.ServiceClientConstructor;
  const client = new Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  return new Promise((ok, fail) =>
    client.Check({ service }, (err: Error | null, res: { status: string }) => {
      client.close();
      return err ? fail(err) : ok(res.status);
    }),
  );
}

const reflectionProto = createRequire(import.meta.url).resolve(
  '@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto',
);

export function grpcReflect(port: number, request: object): Promise<any> {
  const def = protoLoader.loadSync(reflectionProto, {
    keepCase: true,
    longs: String,
    defaults: true,
    oneofs: true,
  });
  const Reflection = (grpc.loadPackageDefinition(def) as any).grpc.reflection.v1
    .ServerReflection as grpc.ServiceClientConstructor;
  const client = new Reflection(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  return new Promise((ok, fail) => {
    const stream = client.ServerReflectionInfo();
    stream.on('data', (res: unknown) => {
      stream.end();
      client.close();
      ok(res);
    });
    stream.on('error', fail);
    stream.write(request);
  });
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: any;
}

/** POSTs raw JSON text (or a value to encode), optionally from a given loopback address and with a request id. */
export function postJson(
  baseUrl: string,
  path: string,
  body: unknown,
  opts: { localAddress?: string; requestId?: string } = {},
): Promise<HttpAnswer> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const url = new URL(path, baseUrl);
  return new Promise((ok, fail) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        agent: false,
        localAddress: opts.localAddress,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...(opts.requestId ? { 'x-request-id': opts.requestId } : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => {
          let parsed: unknown = data;
          try {
            parsed = JSON.parse(data);
          } catch {
            // not JSON
          }
          ok({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: parsed });
        });
      },
    );
    req.on('error', fail);
    req.end(text);
  });
}

export async function getJson(baseUrl: string, path: string): Promise<HttpAnswer> {
  const res = await fetch(new URL(path, baseUrl));
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: JSON.parse(text) };
}

/** A Nest-wire TCP client, as another role would call the calculator.* patterns. */
export function rpcConnection(port: number, tls?: ConnectionOptions): TcpConnection {
  const conn = new TcpConnection({ host: '127.0.0.1', port, maxMessageChars: 1 << 20, tls });
  conn.start();
  return conn;
}

/** A local webhook receiver answering with the given statuses in turn (the last one repeats). */
export async function webhookReceiver(statuses: number[]) {
  const bodies: any[] = [];
  let calls = 0;
  const server: Server = createHttpServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      res.statusCode = statuses[Math.min(calls++, statuses.length - 1)];
      if (res.statusCode < 300) bodies.push(JSON.parse(data));
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/watched`,
    bodies,
    get calls() {
      return calls;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A TCP proxy between a role and PostgreSQL that the test can cut (listener closed, every connection reset) and
 * restore on the same port: a real network fault without stopping the shared server.
 */
export class TcpProxy {
  private server: NetServer | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => ok());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  /** Refuses new connections and resets every open one. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    const closed = new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  close(): Promise<void> {
    return this.cut();
  }

  /** The same URL with host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string {
    const u = new URL(databaseUrl);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }
}
