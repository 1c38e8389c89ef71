import { checkPromClientProtocol, LabelledHistogram } from './prom-client.js';
import { LibraryAssumptionError } from './library-assumption.js';

describe(checkPromClientProtocol.name, () => {
  it('passes with the installed prom-client', async () => {
    await expect(checkPromClientProtocol()).resolves.toBeUndefined();
  });

  it('fails loudly, naming prom-client, when the registry renders a value other than as assumed', async () => {
    // What a registry that no longer reads sharedLabels would make of the histogram: its series lose their labels.
    class WithoutSharedLabels extends LabelledHistogram {
      override getForPromString() {
        const data = super.getForPromString();
        return { ...data, values: data.values.map((v) => ({ ...v, sharedLabels: {} })) };
      }
    }
    const check = checkPromClientProtocol((...args) => new WithoutSharedLabels(...args));
    await expect(check).rejects.toThrow(LibraryAssumptionError);
    await expect(checkPromClientProtocol((...args) => new WithoutSharedLabels(...args))).rejects.toThrow(
      /^prom-client@\S+ .*getForPromString\(\)/,
    );
  });
});
