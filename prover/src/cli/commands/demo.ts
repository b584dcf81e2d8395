import type { Command } from "commander";
import { UserInputError } from "../../errors.js";
import { runDemo, type DemoReport } from "../../demo/onchain.js";
import { cacheDir, requireCheckout } from "../../util/paths.js";
import type { CliContext } from "../context.js";
import { fmtBytes, fmtFloats, fmtMs, table, toJson } from "../format.js";
import { join } from "node:path";

export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command("demo")
    .summary("from nothing to a verified on-chain inference on a local chain (npm run demo)")
    .description(
      "end-to-end demo on a local chain: start `hardhat node` on 127.0.0.1, deploy the suite (Ignition), build and " +
        "register digits-mlp, deploy the example dApp DigitBounty, start the prover service, send a player's drawing, " +
        "let the service prove and fulfil it, and check the receipt again from the chain and with EZKL. " +
        "Progress goes to stderr, the account to stdout; exit code 0 only if everything verified",
    )
    .option("--sample <n>", "which held-out drawing the player sends (examples/models/digits-mlp/heldout.json)", "0")
    .option("--port <n>", "port for the local node (default: a free one)")
    .option("--json", "print the account as JSON")
    .action(async (opts: { sample: string; port?: string; json?: boolean }) => {
      requireCheckout("demo");
      const sample = Number(opts.sample);
      if (!Number.isInteger(sample) || sample < 0)
        throw new UserInputError(`--sample must be a sample index, not '${opts.sample}'`);
      const port = opts.port === undefined ? undefined : Number(opts.port);
      if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
        throw new UserInputError(`--port must be a TCP port, not '${opts.port}'`);
      const engine = ctx.engine();
      const info = await engine.info();
      process.stderr.write(`zkinfer demo — EZKL ${info.ezklVersion} (Python ${info.python}); artifacts in ${cacheDir()}\n`);
      const report = await runDemo({
        engine,
        logger: ctx.logger,
        sample,
        ...(port === undefined ? {} : { port }),
        workDir: join(cacheDir(), "demo"),
      });
      console.log(opts.json ? toJson({ ...report, model: { ...report.model, manifest: undefined } }) : printable(report));
      if (!report.verified) process.exitCode = 1;
    });
}

function printable(r: DemoReport): string {
  const m = r.model.manifest;
  const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
  const floatDigit = argmax(r.floatOutputs);
  const maxDiff = Math.max(...r.verifiedOutputs.map((v, i) => Math.abs(v - (r.floatOutputs[i] ?? NaN))));
  const gasW = Math.max(...r.txs.map((t) => t.label.length));
  const section = (title: string) => `\n== ${title} ==\n`;
  const check = (c: { name: string; ok: boolean; detail: string }) => `  ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`;
  return [
    section("the chain"),
    table([
      ["chain", `${r.chainId} (hardhat node at ${r.rpcUrl}, stopped at the end)`],
      ...Object.entries(r.contracts).map(([k, v]): [string, string] => [k, v]),
    ]),
    section("the model: digits-mlp"),
    table([
      ["modelId / version", `${r.model.modelId} / v${r.model.version}`],
      ["ONNX sha256", m.hashes.model],
      ["settings sha256", m.hashes.settings],
      ["circuit sha256", m.hashes.circuit],
      ["SRS sha256", `${m.hashes.srs} (dev SRS: for demos and tests only)`],
      ["vk sha256", m.hashes.vk],
      ["verifier codehash", `${m.verifier.codeHash} (${m.verifier.deployedSize} bytes)`],
      [
        "circuit",
        `logrows ${m.circuit.logrows}, input scale 2^${m.circuit.inputScale}, output scale 2^${m.circuit.outputScale}, pk ${fmtBytes(m.sizes.pk ?? 0)}`,
      ],
    ]),
    section("the inference"),
    table([
      ["input", `held-out 8x8 drawing of a ${r.label}: 64 pixels, first ${fmtFloats(r.input.slice(0, 8), 3)}…`],
      ["float model (onnxruntime)", `${fmtFloats(r.floatOutputs, 3)} -> digit ${floatDigit}`],
      ["verified on-chain output", `${fmtFloats(r.verifiedOutputs, 3)} -> digit ${r.predictedDigit}`],
      ["largest difference", `${maxDiff.toFixed(4)} (tolerance ${m.accuracy?.tolerance ?? "n/a"})`],
      ["the dApp's decision", `player claimed ${r.claimedDigit}: ${r.won ? "WON the prize" : "lost"}`],
      ["request id", r.requestId.toString()],
      ["proof time", r.proveMs === null ? "n/a" : `${fmtMs(r.proveMs)} (EZKL prove in the service's worker)`],
      ["request -> fulfilled", fmtMs(r.requestToFulfilledMs)],
    ]),
    section("gas of each transaction"),
    r.txs.map((t) => `  ${t.label.padEnd(gasW)}  ${t.gasUsed.toLocaleString("en-US").padStart(10)}  ${t.hash}`).join("\n"),
    section("the receipt, checked again"),
    [...r.receiptChecks, ...r.localChecks].map(check).join("\n"),
    `\n${r.verified ? "VERIFIED" : "NOT VERIFIED"}: digits-mlp v${r.model.version} says ${r.predictedDigit} for request ${r.requestId}, proven by EZKL and checked on-chain${r.verified ? "" : " — see the failed checks above"}.`,
  ].join("\n");
}
