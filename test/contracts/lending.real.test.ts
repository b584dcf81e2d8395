import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeAbiParameters, keccak256, parseEther, parseEventLogs } from "viem";
import { inferenceCoordinatorAbi } from "../../prover/src/chain/abis.js";
import { lockAndFulfil } from "../../prover/src/chain/fulfil.js";
import { fixedToFloat } from "../../prover/src/engine/felt.js";
import { proveInference } from "../../prover/src/models/inference.js";
import { parseInput } from "../../prover/src/models/input.js";
import { deploySuite } from "../helpers/suite.js";
import { receiptOf } from "../helpers/receipt.js";
import { revertOf } from "../helpers/revert.js";
import { fulfilledOutputs, requestsInLogs } from "../../prover/src/sdk/terms.js";
import { builtExample, sharedEngine } from "../helpers/models.js";

/**
 * The example LendingPool on the real coordinator, priced by a real EZKL proof of credit-logreg (skl2onnx's
 * export as a user writes it), on Hardhat's in-process EVM: the pool sends the borrower's record as the input,
 * a prover locks and fulfils with a proof of exactly that input, and the pool prices the loan from the verified
 * default probability; a second application whose callback runs out of gas is settled from the receipt.
 */
describe("LendingPool priced by a real proof of credit-logreg (real coordinator, Hardhat EVM)", function () {
  let f: Awaited<ReturnType<typeof deploySuite>>;
  let proofDir: string;
  const AMOUNT = parseEther("1");
  const FEE = parseEther("0.001");

  before(async () => {
    f = await deploySuite();
    proofDir = mkdtempSync(join(tmpdir(), "zkinfer-lending-"));
  });
  after(() => rmSync(proofDir, { recursive: true, force: true }));

  it("prices a loan from the verified default probability, and settles a failed callback from the receipt", async () => {
    const model = await builtExample("credit-logreg");
    const { modelId, version } = await f.registerExample("credit-logreg");
    const v = await f.registry.read.getVersion([modelId, version]);
    const [owner, borrower, second, prover] = [f.wallets[0]!, f.wallets[2]!, f.wallets[3]!, f.wallets[4]!];
    const config = {
      modelId,
      modelVersion: version,
      inputScale: v.inputScale,
      outputScale: v.outputScale,
      maxDefaultBps: 9_000,
      baseRateBps: 200,
      riskRateBps: 2_000,
      callbackGasLimit: 300_000,
      term: 30n * 86_400n,
      requestTimeout: 3_600n,
      maxLoan: parseEther("5"),
    };
    const pool = await f.viem.deployContract("LendingPool", [f.coordinator.address, owner.account.address, config]);
    await f.publicClient.waitForTransactionReceipt({ hash: await pool.write.fund({ value: parseEther("10") }) });

    const apply = async (who: typeof borrower) => {
      const receipt = await f.publicClient.waitForTransactionReceipt({
        hash: await pool.write.applyForLoan([AMOUNT], { account: who.account, value: FEE }),
      });
      const [request] = requestsInLogs(receipt.logs);
      return request!;
    };

    // 1. A fresh borrower: the pool's features of its (empty) record are the request's input.
    const req = await apply(borrower);
    expect(req.input).to.deep.equal(await pool.read.features([borrower.account.address, AMOUNT]));
    const floats = req.input.map((x) => fixedToFloat(x, v.inputScale));
    const input = parseInput(floats, model.manifest, "the pool's features");
    expect(input.fixed, "the features survive EZKL's quantisation unchanged").to.deep.equal([...req.input]);
    const proof = await proveInference(sharedEngine(), model, input, { out: join(proofDir, "credit.proof.json") });
    const fulfilled = await lockAndFulfil(
      prover,
      f.publicClient,
      f.coordinator.address,
      req.requestId,
      proof.proof,
      proof.instances,
    );
    const [done] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: fulfilled.fulfil.logs, eventName: "InferenceFulfilled" });
    const outputs = fulfilledOutputs(done!.args);
    expect(outputs).to.have.length(2);
    const bps = ((outputs[1]! < 0n ? 0n : outputs[1]!) * 10_000n) >> BigInt(v.outputScale);
    const ln = await pool.read.loan([borrower.account.address]);
    expect(ln.status, "approved by the verified model").to.equal(2);
    expect(BigInt(ln.defaultBps)).to.equal(bps);
    expect(ln.interest).to.equal((AMOUNT * (200n + (2_000n * bps) / 10_000n)) / 10_000n);
    // The verified probability is the model's: p(repay) + p(default) = 1 within the circuit's rounding.
    const p = outputs.map((o) => fixedToFloat(o, v.outputScale));
    expect(Math.abs(p[0]! + p[1]! - 1)).to.be.lessThan(0.01);

    // 2. The owner starves the callback of gas; the same record (same input) gets the same proof.
    await f.publicClient.waitForTransactionReceipt({
      hash: await pool.write.setConfig([{ ...config, callbackGasLimit: 5_000 }]),
    });
    const req2 = await apply(second);
    expect(req2.input).to.deep.equal(req.input);
    const second2 = await lockAndFulfil(
      prover,
      f.publicClient,
      f.coordinator.address,
      req2.requestId,
      proof.proof,
      proof.instances,
    );
    const failed = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: second2.fulfil.logs, eventName: "CallbackFailed" });
    expect(failed, "the callback ran out of gas").to.have.length(1);
    expect((await pool.read.loan([second.account.address])).status, "left pending").to.equal(1);
    const [done2] = parseEventLogs({ abi: inferenceCoordinatorAbi, logs: second2.fulfil.logs, eventName: "InferenceFulfilled" });
    const receipt2 = await receiptOf(f.publicClient, req2.requestId, req2.terms, second2.fulfil);
    expect(receipt2.callback, "the receipt records the failed callback").to.equal(2);
    // Outputs that are not the receipt's, or a receipt that is not the coordinator's, settle nothing.
    const outputs2 = fulfilledOutputs(done2!.args);
    const forgedOutputs = outputs2.map((o) => o + 1n);
    const wrong = await revertOf(
      pool.write.settleFromReceipt([second.account.address, receipt2, forgedOutputs], { account: prover.account }),
    );
    expect(wrong.errorName).to.equal("PoolOutputsMismatch");
    const forgedHash = keccak256(encodeAbiParameters([{ type: "int256[]" }], [forgedOutputs]));
    const unknown = await revertOf(
      pool.write.settleFromReceipt([second.account.address, { ...receipt2, outputsHash: forgedHash }, forgedOutputs], {
        account: prover.account,
      }),
    );
    expect(unknown.errorName).to.equal("PoolReceiptUnknown");
    expect(unknown.args).to.deep.equal([req2.requestId]);
    await f.publicClient.waitForTransactionReceipt({
      hash: await pool.write.settleFromReceipt([second.account.address, receipt2, outputs2], {
        account: prover.account,
      }),
    });
    const ln2 = await pool.read.loan([second.account.address]);
    expect(ln2.status, "approved from the receipt").to.equal(2);
    expect(ln2.defaultBps).to.equal(ln.defaultBps);
    expect(ln2.interest, "priced under its own application's terms").to.equal(ln.interest);
  });
});
