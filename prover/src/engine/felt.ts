/**
 * BN254 scalar-field elements as EZKL writes them, and fixed-point numbers.
 * EZKL's JSON holds a field element as 64 hex digits in little-endian byte order; the EVM verifier
 * takes the same element as a uint256. A negative fixed-point value v is the element p - |v|.
 */
export const FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const HALF = (FIELD_MODULUS - 1n) / 2n;

/** EZKL's little-endian hex (no 0x) to the field element as a bigint. */
export function feltFromLeHex(hex: string): bigint {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) throw new Error(`not a 32-byte field element: ${hex}`);
  const be = Buffer.from(clean, "hex").reverse().toString("hex");
  return BigInt("0x" + be);
}

/** The field element back to EZKL's little-endian hex. */
export function feltToLeHex(felt: bigint): string {
  if (felt < 0n || felt >= FIELD_MODULUS) throw new RangeError(`not a field element: ${felt}`);
  return Buffer.from(felt.toString(16).padStart(64, "0"), "hex").reverse().toString("hex");
}

/** A field element read as a signed fixed-point integer. */
export function feltToInt(felt: bigint): bigint {
  if (felt < 0n || felt >= FIELD_MODULUS) throw new RangeError(`not a field element: ${felt}`);
  return felt > HALF ? felt - FIELD_MODULUS : felt;
}

/** A signed fixed-point integer as a field element. */
export function intToFelt(value: bigint): bigint {
  if (value > HALF || value < -HALF) throw new RangeError(`fixed-point value out of field range: ${value}`);
  return value < 0n ? FIELD_MODULUS + value : value;
}

/** Float to fixed point at `scale` (value * 2^scale, rounded half away from zero as EZKL does). */
export function floatToFixed(value: number, scale: number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  const scaled = value * 2 ** scale;
  return BigInt(Math.sign(scaled) * Math.round(Math.abs(scaled)));
}

export function fixedToFloat(value: bigint, scale: number): number {
  return Number(value) / 2 ** scale;
}
