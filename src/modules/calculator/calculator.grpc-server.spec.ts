import * as grpc from '@grpc/grpc-js';
import { AppError } from '../../platform/errors/app-error.js';
import {
  CalculatorGrpcServer,
  MATH_HELPER_SERVICE,
  clientIpFromPeer,
  directMathHandler,
  loadMathHelperDefinition,
  toGrpcError,
  type GrpcCallMeta,
  type MathHelperHandler,
} from './calculator.grpc-server.js';
import { grpcHealth, grpcReflect } from '../../../test/calculator/calculator.clients.js';
import { factorialVectors, summationVectors } from '../../../test/calculator/calculator.vectors.js';

const LOCALHOST = '127.0.0.1';

type Unary = (
  req: object,
  metadata: grpc.Metadata,
  cb: (err: grpc.ServiceError | null, res: any) => void,
) => void;
interface MathHelperClient extends grpc.Client {
  Summation: Unary;
  Factorial: Unary;
}

/** A client built the way any user would: from the shipped proto, with int64 as strings. */
function mathClient(port: number): MathHelperClient {
  const loaded = grpc.loadPackageDefinition(loadMathHelperDefinition());
  const Ctor = loaded[MATH_HELPER_SERVICE] as grpc.ServiceClientConstructor;
  return new Ctor(`${LOCALHOST}:${port}`, grpc.credentials.createInsecure()) as unknown as MathHelperClient;
}

function call(
  client: MathHelperClient,
  method: 'Summation' | 'Factorial',
  req: object,
  metadata = new grpc.Metadata(),
) {
  return new Promise<{ err: grpc.ServiceError | null; res: any }>((resolve) =>
    client[method](req, metadata, (err, res) => resolve({ err, res })),
  );
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe(CalculatorGrpcServer.name, () => {
  describe('serving the issue vectors', () => {
    const server = new CalculatorGrpcServer({ host: LOCALHOST, port: 0, handler: directMathHandler });
    let client: MathHelperClient;

    beforeAll(async () => {
      client = mathClient(await server.start());
    });
    afterAll(async () => {
      client.close();
      await server.stop(1000);
    });

    describe.each(summationVectors)('Summation: $name', ({ first, last, result, error }) => {
      it(result !== undefined ? `answers ${result}` : `fails with ${error}`, async () => {
        const { err, res } = await call(client, 'Summation', { first, last });
        if (result !== undefined) {
          expect(err).toBeNull();
          expect(res).toEqual({ result, first, last });
        } else {
          expect(err?.code).toBe(grpc.status[error!]);
        }
      });
    });

    describe.each(factorialVectors)('Factorial: $name', ({ base, result, error }) => {
      it(result !== undefined ? `answers ${result}` : `fails with ${error}`, async () => {
        const { err, res } = await call(client, 'Factorial', { base });
        if (result !== undefined) {
          expect(err).toBeNull();
          expect(res).toEqual({ result, base });
        } else {
          expect(err?.code).toBe(grpc.status[error!]);
        }
      });
    });

    it('treats absent fields as proto3 zeros, like the original', async () => {
      const { res } = await call(client, 'Factorial', {});
      expect(res).toEqual({ result: '1', base: '0' });
    });

    it('carries int64 extremes exactly', async () => {
      const { res } = await call(client, 'Summation', {
        first: '-9223372036854775808',
        last: '9223372036854775807',
      });
      expect(res).toEqual({ result: '-1', first: '-9223372036854775808', last: '9223372036854775807' });
    });

    it('reports SERVING on the standard health service, overall and for MathHelper', async () => {
      expect(await grpcHealth(server.port!, '')).toBe('SERVING');
      expect(await grpcHealth(server.port!, MATH_HELPER_SERVICE)).toBe('SERVING');
    });

    it('lists MathHelper and the health service through server reflection', async () => {
      const res = await grpcReflect(server.port!, { list_services: '*' });
      expect(res.list_services_response.service.map((s: { name: string }) => s.name)).toEqual(
        expect.arrayContaining([MATH_HELPER_SERVICE, 'grpc.health.v1.Health']),
      );
    });

    it('describes MathHelper and its methods through server reflection', async () => {
      const res = await grpcReflect(server.port!, { file_containing_symbol: MATH_HELPER_SERVICE });
      const descriptors = Buffer.concat(res.file_descriptor_response.file_descriptor_proto).toString(
        'latin1',
      );
      for (const name of ['MathHelper', 'Summation', 'Factorial', 'SummationInput', 'FactorialResult']) {
        expect(descriptors).toContain(name);
      }
    });
  });

  describe('handing calls to the handler', () => {
    const seen: GrpcCallMeta[] = [];
    const recording: MathHelperHandler = {
      // Not async: first = 13 throws before any promise exists.
      summation: (input, meta) => {
        if (input.first === '13') throw new Error('thrown synchronously');
        seen.push(meta);
        return directMathHandler.summation(input, meta);
      },
      factorial: async () => {
        throw new Error('database password is hunter2');
      },
    };
    const unexpected: unknown[] = [];
    const server = new CalculatorGrpcServer({
      host: LOCALHOST,
      port: 0,
      handler: recording,
      onUnexpectedError: (err) => unexpected.push(err),
    });
    let client: MathHelperClient;

    beforeAll(async () => {
      client = mathClient(await server.start());
    });
    afterAll(async () => {
      client.close();
      await server.stop(1000);
    });

    it("passes the caller's IP and request id", async () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'req-42');
      await call(client, 'Summation', { first: '1', last: '2' }, metadata);
      expect(seen.at(-1)).toEqual({
        clientIp: LOCALHOST,
        peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        requestId: 'req-42',
      });
    });

    it('leaves the request id out when the caller sent none', async () => {
      await call(client, 'Summation', { first: '1', last: '2' });
      expect(seen.at(-1)).toEqual({ clientIp: LOCALHOST, peer: expect.stringMatching(/:\d+$/) });
      expect(Object.keys(seen.at(-1)!)).not.toContain('requestId');
    });

    it('leaves out a request id the platform would not take over (not a short safe token)', async () => {
      const metadata = new grpc.Metadata();
      metadata.set('x-request-id', 'spaces and ; are not safe');
      await call(client, 'Summation', { first: '1', last: '2' }, metadata);
      expect(Object.keys(seen.at(-1)!)).not.toContain('requestId');
    });

    it('answers a handler that throws before returning a promise, and reports it', async () => {
      const before = unexpected.length;
      const { err } = await call(client, 'Summation', { first: '13', last: '14' });
      expect({ code: err?.code, details: err?.details }).toEqual({
        code: grpc.status.INTERNAL,
        details: 'internal error',
      });
      expect(unexpected.slice(before)).toEqual([
        expect.objectContaining({ message: 'thrown synchronously' }),
      ]);
    });

    it('hides unexpected failures behind INTERNAL and reports them', async () => {
      const before = unexpected.length;
      const { err } = await call(client, 'Factorial', { base: '3' });
      expect({ code: err?.code, details: err?.details }).toEqual({
        code: grpc.status.INTERNAL,
        details: 'internal error',
      });
      expect(unexpected.slice(before)).toEqual([
        expect.objectContaining({ message: 'database password is hunter2' }),
      ]);
    });

    it('reports NOT_SERVING once told to', async () => {
      server.setServingStatus('NOT_SERVING');
      expect(await grpcHealth(server.port!, '')).toBe('NOT_SERVING');
      server.setServingStatus('SERVING');
    });
  });

  describe('stopping', () => {
    it('lets an in-flight call finish within the grace period', async () => {
      const entered = deferred();
      const release = deferred();
      const server = new CalculatorGrpcServer({
        host: LOCALHOST,
        port: 0,
        handler: {
          ...directMathHandler,
          factorial: async (input, meta) => {
            entered.resolve();
            await release.promise;
            return directMathHandler.factorial(input, meta);
          },
        },
      });
      const client = mathClient(await server.start());
      const pending = call(client, 'Factorial', { base: '5' });
      await entered.promise;
      const stopped = server.stop(30_000);
      release.resolve();
      expect((await pending).res).toEqual({ result: '120', base: '5' });
      expect(await stopped).toEqual({ forced: false });
      client.close();
    });

    it('cancels calls still running when the grace period ends', async () => {
      const entered = deferred();
      const server = new CalculatorGrpcServer({
        host: LOCALHOST,
        port: 0,
        handler: {
          ...directMathHandler,
          factorial: () => {
            entered.resolve();
            return new Promise(() => {});
          },
        },
      });
      const client = mathClient(await server.start());
      const pending = call(client, 'Factorial', { base: '5' });
      await entered.promise;
      expect(await server.stop(10)).toEqual({ forced: true });
      expect((await pending).err).toMatchObject({ code: grpc.status.CANCELLED });
      client.close();
    });
  });
});

describe(toGrpcError.name, () => {
  it('keeps the gRPC status an AppError code names, else maps its HTTP status', () => {
    expect(toGrpcError(new AppError(422, 'OUT_OF_RANGE', 'too big')).code).toBe(grpc.status.OUT_OF_RANGE);
    expect(toGrpcError(new AppError(503, 'unavailable', 'later')).code).toBe(grpc.status.UNAVAILABLE);
  });
});

describe(clientIpFromPeer.name, () => {
  it.each([
    ['127.0.0.1:50000', '127.0.0.1'],
    ['::1:50000', '::1'],
    ['::ffff:127.0.0.1:50000', '::ffff:127.0.0.1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['ipv4:10.0.0.1:80', '10.0.0.1'],
    ['10.0.0.1', '10.0.0.1'],
  ])('reads %s as %s', (peer, ip) => {
    expect(clientIpFromPeer(peer)).toBe(ip);
  });
});
