import type { FoldableEvent } from './running-total.aggregate.js';
import { EMPTY_RUNNING_TOTAL, applyToRunningTotal, foldRunningTotal } from './running-total.aggregate.js';

const log = {
  summationAnswered: (seq?: string): FoldableEvent => ({
    type: 'CalculationCompleted',
    payload: { method: 'summation', result: '4' },
    ...(seq ? { seq } : {}),
  }),
  factorialAnswered: (seq?: string): FoldableEvent => ({
    type: 'CalculationCompleted',
    payload: { method: 'factorial', result: '120' },
    ...(seq ? { seq } : {}),
  }),
  failed: (seq?: string): FoldableEvent => ({
    type: 'CalculationFailed',
    payload: { method: 'factorial', code: 'OUT_OF_RANGE', message: 'overflow' },
    ...(seq ? { seq } : {}),
  }),
  requested: (seq?: string): FoldableEvent => ({
    type: 'CalculationRequested',
    payload: {
      method: 'summation',
      input: { first: '2', last: '2' },
      clientIp: '10.0.0.1',
      at: '',
      instance: 'x',
    },
    ...(seq ? { seq } : {}),
  }),
  watched: (seq?: string): FoldableEvent => ({
    type: 'ClientWatched',
    payload: { method: 'summation', clientIp: '10.0.0.1', rule: '10.0.0.0/8' },
    ...(seq ? { seq } : {}),
  }),
};

describe(foldRunningTotal.name, () => {
  it('starts at zero', () => {
    expect(foldRunningTotal([])).toEqual({ summation: 0, factorial: 0, failed: 0, lastSeq: '0' });
  });

  it('counts answered summations and factorials, and failures', () => {
    const total = foldRunningTotal([
      log.requested(),
      log.summationAnswered(),
      log.requested(),
      log.factorialAnswered(),
      log.factorialAnswered(),
      log.failed(),
    ]);
    expect(total).toMatchObject({ summation: 1, factorial: 2, failed: 1 });
  });

  it('ignores requests and watch events', () => {
    expect(foldRunningTotal([log.requested(), log.watched()])).toEqual(EMPTY_RUNNING_TOTAL);
  });

  it('remembers the last stored event folded in', () => {
    expect(foldRunningTotal([log.requested('7'), log.summationAnswered('8')]).lastSeq).toBe('8');
  });

  it('continues from an earlier total, as after a restart', () => {
    const history = [log.summationAnswered('1'), log.failed('2'), log.factorialAnswered('3')];
    const rebuiltInTwoSteps = foldRunningTotal(history.slice(2), foldRunningTotal(history.slice(0, 2)));
    expect(rebuiltInTwoSteps).toEqual(foldRunningTotal(history));
  });

  it('leaves the total it was given untouched', () => {
    const before = foldRunningTotal([log.summationAnswered('1')]);
    applyToRunningTotal(before, log.summationAnswered('2'));
    expect(before).toEqual({ summation: 1, factorial: 0, failed: 0, lastSeq: '1' });
  });
});
