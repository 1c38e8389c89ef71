import { AppError } from '../../platform/errors/app-error.js';
import { CalculateUseCase, type CallOrigin, type WatchedClientNotice } from './calculate.use-case.js';
import type { NewCalculatorEvent } from './event-store/calculator-event.types.js';
import { WatchedIpMatcher } from './watched-ip.matcher.js';

const clock = { at: new Date('2025-03-04T05:06:07.089Z') };
const origins = {
  http: { door: 'http', clientIp: '127.0.0.1', requestId: 'req-1' } satisfies CallOrigin,
  watched: { door: 'grpc', clientIp: '10.1.2.3', requestId: 'req-2' } satisfies CallOrigin,
};
const instance = 'calculator@test-host';

function setup() {
  const appended: NewCalculatorEvent[][] = [];
  const notices: WatchedClientNotice[] = [];
  let n = 0;
  const useCase = new CalculateUseCase({
    append: async (...events) => void appended.push(events),
    now: () => clock.at,
    newId: () => `id-${++n}`,
    instance,
    watch: new WatchedIpMatcher(['10.0.0.0/8']),
    onWatched: (notice) => notices.push(notice),
  });
  return { useCase, appended, notices };
}

describe(CalculateUseCase.name, () => {
  it('answers and appends CalculationRequested then CalculationCompleted in one group', async () => {
    const { useCase, appended } = setup();
    expect(await useCase.factorial({ base: 5 }, origins.http)).toEqual({ result: '120', base: '5' });
    expect(appended).toEqual([
      [
        {
          id: 'id-1',
          type: 'CalculationRequested',
          requestId: 'req-1',
          createdAt: clock.at,
          instance,
          payload: {
            method: 'factorial',
            input: { base: '5' },
            clientIp: '127.0.0.1',
            at: clock.at.toISOString(),
            instance,
            door: 'http',
          },
        },
        {
          id: 'id-2',
          type: 'CalculationCompleted',
          requestId: 'req-1',
          createdAt: clock.at,
          instance,
          payload: { method: 'factorial', result: '120' },
        },
      ],
    ]);
  });

  it('records a failure with its code and message, then rethrows it', async () => {
    const { useCase, appended } = setup();
    const failure = await useCase
      .summation({ first: '9223372036854775807', last: 1 }, origins.http)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(appended[0].map((e) => [e.type, e.payload])).toEqual([
      [
        'CalculationRequested',
        expect.objectContaining({ input: { first: '9223372036854775807', last: '1' } }),
      ],
      [
        'CalculationFailed',
        { method: 'summation', code: 'OUT_OF_RANGE', message: (failure as AppError).message },
      ],
    ]);
  });

  it('adds ClientWatched for a watched address and notifies once the events are accepted', async () => {
    const { useCase, appended, notices } = setup();
    await useCase.summation({ first: 2, last: 2 }, origins.watched);
    expect(appended[0].map((e) => e.type)).toEqual([
      'CalculationRequested',
      'ClientWatched',
      'CalculationCompleted',
    ]);
    expect(appended[0][1].payload).toEqual({ method: 'summation', clientIp: '10.1.2.3', rule: '10.0.0.0/8' });
    expect(notices).toEqual([
      {
        type: 'ClientWatched',
        requestId: 'req-2',
        method: 'summation',
        clientIp: '10.1.2.3',
        rule: '10.0.0.0/8',
        door: 'grpc',
        at: clock.at.toISOString(),
        instance,
      },
    ]);
  });

  it('does not answer before the log has accepted the events', async () => {
    let accept!: () => void;
    const useCase = new CalculateUseCase({
      append: () => new Promise<void>((resolve) => (accept = resolve)),
      now: () => clock.at,
      newId: () => 'id',
      instance,
    });
    let answered = false;
    const pending = useCase.factorial({ base: 3 }, origins.http).then(() => (answered = true));
    await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    accept();
    await pending;
    expect(answered).toBe(true);
  });
});
