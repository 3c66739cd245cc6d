import * as zlib from 'node:zlib';

/** CRC-32 (the gzip trailer's) of `data`, continuing from `previous`. */
export type Crc32 = (data: Uint8Array, previous?: number) => number;

const TABLES = ((): Uint32Array[] => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const first = tables[0] as Uint32Array;
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    first[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n += 1) {
    for (let t = 1; t < 8; t += 1) {
      const previous = (tables[t - 1] as Uint32Array)[n] as number;
      (tables[t] as Uint32Array)[n] = (first[previous & 0xff] as number) ^ (previous >>> 8);
    }
  }
  return tables;
})();

/** Slicing-by-8 in JavaScript, for Node versions without zlib.crc32 (added in 22.2). */
export function crc32InJs(data: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let crc = ~previous >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = (crc ^ ((data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24))) >>> 0;
    crc =
      (t7[a & 0xff] as number) ^ (t6[(a >>> 8) & 0xff] as number) ^ (t5[(a >>> 16) & 0xff] as number) ^ (t4[a >>> 24] as number) ^
      (t3[data[i + 4] as number] as number) ^ (t2[data[i + 5] as number] as number) ^ (t1[data[i + 6] as number] as number) ^ (t0[data[i + 7] as number] as number);
  }
  for (; i < data.length; i += 1) crc = (t0[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return ~crc >>> 0;
}

const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

export const crc32: Crc32 = native ? (data, previous = 0) => native(data, previous) : crc32InJs;

const POLYNOMIAL = 0xedb88320;

/** a(x) · b(x) modulo the CRC-32 polynomial, bit-reflected as the CRC is (zlib's multmodp). */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0 … 31. */
const X_2N = ((): Uint32Array => {
  const table = new Uint32Array(32);
  let p = 0x40000000; // x^1
  table[0] = p;
  for (let k = 1; k < 32; k += 1) table[k] = p = multiplyModP(p, p);
  return table;
})();

/**
 * The CRC-32 of A followed by B, from A's CRC, B's and B's length (zlib's
 * crc32_combine): what lets a gzip stream be put together from pieces compressed earlier.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  // x^(8 · lengthB) modulo the polynomial, from the squares in the table.
  let shift = 0x80000000; // x^0
  let k = 3;
  for (let n = lengthB; n > 0; n = Math.floor(n / 2), k += 1) {
    if (n % 2 === 1) shift = multiplyModP(X_2N[k % 32] as number, shift);
  }
  return (multiplyModP(shift, crcA >>> 0) ^ crcB) >>> 0;
}
