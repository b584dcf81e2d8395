import { expect } from "chai";
import {
  FIELD_MODULUS,
  feltFromLeHex,
  feltToInt,
  feltToLeHex,
  fixedToFloat,
  floatToFixed,
  intToFelt,
} from "../../prover/src/engine/felt.js";

describe("field elements and fixed point", () => {
  it("reads EZKL's little-endian hex", () => {
    // 0x2000 = 8192 = 1.0 at scale 13, as EZKL writes it in a witness
    expect(feltFromLeHex("0020" + "0".repeat(60))).to.equal(8192n);
    expect(feltToLeHex(8192n)).to.equal("0020" + "0".repeat(60));
  });

  it("maps negative fixed-point values to p - |v| and back", () => {
    for (const v of [0n, 1n, -1n, 123456789n, -987654321n, (FIELD_MODULUS - 1n) / 2n, -(FIELD_MODULUS - 1n) / 2n]) {
      const felt = intToFelt(v);
      expect(felt >= 0n && felt < FIELD_MODULUS).to.equal(true);
      expect(feltToInt(felt)).to.equal(v);
      expect(feltToInt(feltFromLeHex(feltToLeHex(felt)))).to.equal(v);
    }
    expect(intToFelt(-5n)).to.equal(FIELD_MODULUS - 5n);
  });

  it("rejects values that are not field elements", () => {
    expect(() => feltToInt(FIELD_MODULUS)).to.throw(RangeError);
    expect(() => intToFelt(FIELD_MODULUS)).to.throw(RangeError);
    expect(() => feltFromLeHex("abc")).to.throw(/32-byte/);
  });

  it("quantizes floats like EZKL (round half away from zero)", () => {
    expect(floatToFixed(1, 13)).to.equal(8192n);
    expect(floatToFixed(-0.5, 1)).to.equal(-1n);
    expect(floatToFixed(0.5 / 8192, 13)).to.equal(1n);
    expect(floatToFixed(-0.5 / 8192, 13)).to.equal(-1n);
    expect(fixedToFloat(-27802n, 13)).to.be.closeTo(-3.3938, 1e-4);
    expect(() => floatToFixed(Number.NaN, 7)).to.throw(RangeError);
  });
});
