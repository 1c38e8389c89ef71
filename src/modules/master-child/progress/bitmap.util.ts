// Bit counting for the progress bitmap (rebuilt from the chunks at boot).

const BYTE_POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_POPCOUNT[i] = (i & 1) + BYTE_POPCOUNT[i >> 1];

/** Number of set bits in `bytes`. */
export function popcount(bytes: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) n += BYTE_POPCOUNT[bytes[i]];
  return n;
}
