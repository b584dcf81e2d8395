import { expect } from "chai";
import { zkinfer } from "../helpers/cli.js";

/**
 * `npm run demo` is what a new user runs first: it must end with a verified result. This runs the
 * same command (`zkinfer demo`, which `npm run demo` calls) from start to end: its own `hardhat node`,
 * Ignition deployment, build + registration, the prover service, the dApp's request, the fulfilment
 * and the callback, and the receipt checked again.
 */
describe("npm run demo (zkinfer demo)", function () {
  it("ends with a verified on-chain inference and prints the account", async () => {
    const { status, stdout, stderr } = await zkinfer(["demo"], {}, 480_000);
    expect(status, `${stdout}\n${stderr}`).to.equal(0);
    // Progress of every step went to stderr.
    for (let i = 1; i <= 9; i++) expect(stderr).to.include(`[demo] (${i}/9)`);
    // The account: hashes, outputs beside the float model's, proof time, gas of each transaction.
    expect(stdout).to.match(/^ONNX sha256\s+[0-9a-f]{64}$/m);
    expect(stdout).to.match(/^vk sha256\s+[0-9a-f]{64}$/m);
    expect(stdout).to.match(/^float model \(onnxruntime\)\s+\[.+\] -> digit \d$/m);
    expect(stdout).to.match(/^verified on-chain output\s+\[.+\] -> digit \d$/m);
    expect(stdout).to.match(/^proof time\s+\d+(\.\d+)? m?s/m);
    for (const tx of [
      "deploy InferenceCoordinator",
      "DigitBounty.play (requestInference)",
      "InferenceCoordinator.lock (prover)",
      "InferenceCoordinator.fulfill (+ callback)",
    ])
      expect(stdout).to.match(new RegExp(`^  ${tx.replace(/[()+.]/g, "\\$&")}\\s+[\\d,]+\\s+0x[0-9a-f]{64}$`, "m"));
    expect(stdout).to.not.match(/^ {2}FAIL/m);
    const diff = /^largest difference\s+([\d.]+) \(tolerance ([\d.]+)\)/m.exec(stdout);
    expect(diff, "largest difference line").to.not.equal(null);
    expect(Number(diff![1])).to.be.at.most(Number(diff![2]));
    expect(stdout).to.match(/^VERIFIED: digits-mlp v1 says \d for request \d{10,}, proven by EZKL and checked on-chain\.$/m);
  });
});
