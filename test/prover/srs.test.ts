import { expect } from "chai";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, type Hex } from "viem";
import { CEREMONY_NEG_TAU_G2_WORDS, CEREMONY_SRS_SHA256, G2_ONE_WORDS, srsProvenance } from "../../prover/src/models/srs.js";
import { isCeremonyVka, parseVka } from "../../prover/src/models/vka.js";
import { sha256 } from "../../prover/src/util/hash.js";
import { builtExample } from "../helpers/models.js";
import { zkinfer } from "../helpers/cli.js";

/** SRS provenance and VKA parsing: the off-chain halves of the registry's ceremony check. */
describe("SRS provenance and the VKA", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zkinfer-srs-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("pins EZKL's 26 ceremony hashes and calls any other file dev", () => {
    expect(Object.keys(CEREMONY_SRS_SHA256)).to.have.length(26);
    expect(CEREMONY_SRS_SHA256[15]).to.match(/^[0-9a-f]{64}$/);
    expect(srsProvenance(CEREMONY_SRS_SHA256[15]!, 15)).to.equal("ceremony");
    expect(srsProvenance(CEREMONY_SRS_SHA256[15]!, 16), "the right hash for another k").to.equal("dev");
    expect(srsProvenance("00".repeat(32), 15)).to.equal("dev");
  });

  it("`zkinfer srs import` refuses a file that is not the ceremony's for k, naming both hashes, and places nothing", async () => {
    const fake = join(dir, "kzg15.srs");
    writeFileSync(fake, "not the ceremony");
    const cache = join(dir, "cache");
    const r = await zkinfer(["srs", "import", fake, "--logrows", "15"], { ZKINFER_CACHE_DIR: cache });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.include(`its SHA-256 is ${sha256("not the ceremony")}, EZKL pins ${CEREMONY_SRS_SHA256[15]}`);
    expect(r.stderr).to.match(/^hint: download perpetual-powers-of-tau-raw-15/m);
    expect(existsSync(join(cache, "srs", "ceremony-k15.srs"))).to.equal(false);
    const k = await zkinfer(["srs", "import", fake, "--logrows", "27"], { ZKINFER_CACHE_DIR: cache });
    expect(k.status).to.equal(1);
    expect(k.stderr).to.match(/^error: --logrows must be an integer from 1 to 26, not '27'/m);
  });

  it("reads a real build's VKA: its digest is the manifest's, its G2 points say dev", async () => {
    const model = await builtExample("diabetes-mlp");
    const vka = parseVka(new Uint8Array(readFileSync(model.file("vka"))));
    expect(vka.digest).to.equal(model.manifest.vka.digest);
    expect(vka.digest).to.equal(keccak256(`0x${vka.words.map((w) => w.slice(2)).join("")}`));
    expect(vka.ceremonySrs).to.equal(false);
    expect(vka.words.slice(16, 20)).to.deep.equal([...G2_ONE_WORDS]);
    const ceremony = [...vka.words];
    ceremony.splice(20, 4, ...(CEREMONY_NEG_TAU_G2_WORDS as readonly Hex[]));
    expect(isCeremonyVka(ceremony)).to.equal(true);
  });

  it("refuses a VKA file whose length prefix does not match its size", () => {
    const bytes = new Uint8Array(8 + 32 * 24);
    new DataView(bytes.buffer).setBigUint64(0, 25n, true);
    expect(() => parseVka(bytes, "broken.vka")).to.throw(/broken.vka is not an EZKL VKA/);
  });
});
