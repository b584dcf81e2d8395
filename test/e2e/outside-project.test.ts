import { expect } from "chai";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type { Hex } from "viem";
import { readJson, type Heldout } from "../../prover/src/models/source.js";
import { projectRoot } from "../../prover/src/util/paths.js";
import { DEV_KEYS, startHardhatNode, type LocalNode } from "../helpers/chain.js";
import { runCommand, zkinfer, type CommandResult } from "../helpers/cli.js";
import { builtExample, exampleSource } from "../helpers/models.js";
import { startServiceProcess, type ServiceProcess } from "../helpers/service-process.js";

/**
 * zkinfer as a dApp developer meets it: from outside the checkout. The packages are packed with `npm pack`, a
 * separate Hardhat 3 project in a temporary directory installs the tarballs (and Hardhat, viem and solc 0.8.24
 * from the registry, --prefer-offline so npm's cache serves them), compiles a consumer that imports
 * `@zkinfer/contracts/...`, runs its own `hardhat node` on 127.0.0.1, and a script run with plain `node` (no
 * TypeScript loader; the system's Node 20 when there is one, the oldest the SDK claims) requests verified
 * inferences through `@zkinfer/sdk`, from an account and through the consumer, and verifies both receipts. The
 * suite is deployed by the checkout's `zkinfer deploy` (Hardhat + Ignition + EZKL's rendered verifier); the model
 * is registered and the requests fulfilled, with real EZKL proofs, by the installed @zkinfer/prover's `zkinfer`.
 */
describe("from outside the checkout: a Hardhat 3 project on the npm packages", function () {
  let work: string;
  let dapp: string;
  let node: LocalNode | undefined;
  let service: ServiceProcess | undefined;
  const seconds: Record<string, number> = {};
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await f();
    } finally {
      seconds[what] = (Date.now() - t0) / 1000;
    }
  };
  // npm and hardhat under this process's Node (>= 22: Hardhat 3 needs it, and npm under an older one skips EDR),
  // without the HARDHAT_* variables of the Hardhat running this test (HARDHAT_CONFIG would point at the checkout).
  const toolEnv = () => ({
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HARDHAT_"))),
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
  });
  const ok = (what: string, r: CommandResult) => expect(r.status, `${what}:\n${r.stderr}\n${r.stdout}`).to.equal(0);
  const version = (pkg: string) =>
    (JSON.parse(readFileSync(join(projectRoot, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

  before(() => {
    work = mkdtempSync(join(tmpdir(), "zkinfer-outside-"));
    dapp = join(work, "dapp");
  });
  after(async () => {
    await service?.stop();
    await node?.stop();
    rmSync(work, { recursive: true, force: true });
    console.log(`      outside-project timings (s): ${JSON.stringify(seconds)}`);
  });

  const tarballs: Record<string, string> = {};

  it("npm pack makes tarballs of @zkinfer/contracts, @zkinfer/sdk (nothing of EZKL) and @zkinfer/prover", async () => {
    const dest = join(work, "tarballs");
    mkdirSync(dest);
    for (const [name, dir] of [
      ["@zkinfer/contracts", "contracts"],
      ["@zkinfer/sdk", "prover/sdk"],
      ["@zkinfer/prover", "prover"],
    ] as const) {
      const r = await timed(`pack ${name}`, () =>
        runCommand("npm", ["pack", "--json", "--pack-destination", dest], toolEnv(), 120_000, join(projectRoot, dir)),
      );
      ok(`npm pack ${dir}`, r);
      const [packed] = JSON.parse(r.stdout.slice(r.stdout.indexOf("["))) as {
        name: string;
        filename: string;
        files: { path: string }[];
      }[];
      expect(packed!.name).to.equal(name);
      tarballs[name] = join(dest, packed!.filename);
      const files = packed!.files.map((f) => f.path);
      if (name === "@zkinfer/contracts") {
        expect(files).to.include.members([
          "consumer/InferenceConsumer.sol",
          "interfaces/IInferenceCoordinator.sol",
          "libraries/FieldElement.sol",
          "test/MockInferenceCoordinator.sol",
          "abi/InferenceCoordinator.json",
          "abi/Halo2VerifierReusable.json",
          "abi/ModelRegistry.json",
        ]);
        expect(
          files.filter((f) => /\.t\.sol$|^examples\/|generated|Halo2Verifier\.sol/.test(f)),
          "no tests, examples or EZKL output",
        ).to.deep.equal([]);
      } else if (name === "@zkinfer/prover") {
        expect(files).to.include.members(["bin/zkinfer.js", "src/cli/main.ts", "python/worker.py", "python/requirements.txt"]);
        expect(
          files.filter((f) => f.startsWith("sdk/")),
          "the SDK is its own package",
        ).to.deep.equal([]);
      } else {
        expect(files).to.include.members(["dist/sdk/index.js", "dist/sdk/index.d.ts", "dist/chain/abis.d.ts"]);
        expect(
          files.filter((f) => /\.ts$/.test(f) && !/\.d\.ts$/.test(f)),
          "compiled, no TypeScript sources",
        ).to.deep.equal([]);
        expect(
          files.filter((f) => /engine\/(engine|worker)|verify-local|python/.test(f)),
          "no EZKL engine",
        ).to.deep.equal([]);
      }
    }
  });

  it("installs the tarballs into a fresh Hardhat 3 project and compiles a consumer importing the package path under solc 0.8.24", async () => {
    cpSync(join(projectRoot, "examples/dapp-hardhat"), dapp, { recursive: true });
    writeFileSync(
      join(dapp, "package.json"),
      JSON.stringify(
        {
          name: "outside-dapp",
          private: true,
          type: "module",
          dependencies: {
            "@zkinfer/contracts": `file:${tarballs["@zkinfer/contracts"]}`,
            "@zkinfer/sdk": `file:${tarballs["@zkinfer/sdk"]}`,
            "@zkinfer/prover": `file:${tarballs["@zkinfer/prover"]}`,
            hardhat: version("hardhat"),
            viem: version("viem"),
            solc: "0.8.24",
            // The pragmas' floors, for the check below: ^0.8.20 everywhere but the coordinator (^0.8.28, transient storage).
            "solc-0.8.20": "npm:solc@0.8.20",
            "solc-0.8.28": "npm:solc@0.8.28",
            typescript: version("typescript"),
            "@types/node": version("@types/node"),
          },
        },
        null,
        2,
      ),
    );
    const install = await timed("npm install", () =>
      runCommand("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], toolEnv(), 300_000, dapp),
    );
    ok("npm install", install);
    const compile = await timed("hardhat compile", () =>
      runCommand(join(dapp, "node_modules/.bin/hardhat"), ["compile"], toolEnv(), 300_000, dapp),
    );
    ok("hardhat compile", compile);
    expect(compile.stdout + compile.stderr).to.match(/solc 0\.8\.24/);
    const artifact = JSON.parse(readFileSync(join(dapp, "artifacts/contracts/RiskOracle.sol/RiskOracle.json"), "utf8")) as {
      abi: { name?: string }[];
      bytecode: string;
    };
    expect(artifact.abi.map((i) => i.name)).to.include.members(["ask", "answer", "receiveInference"]);
    expect(artifact.bytecode).to.match(/^0x[0-9a-f]{200,}$/);
  });

  it("compiles every packaged source with the oldest solc its pragma admits (0.8.20; the coordinator 0.8.28)", () => {
    const pkg = join(dapp, "node_modules/@zkinfer/contracts");
    const sources = readdirSync(pkg, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".sol"));
    expect(sources).to.include("consumer/InferenceConsumer.sol");
    const coordinator = "coordinator/InferenceCoordinator.sol";
    for (const [solcPackage, files] of [
      ["solc-0.8.20", sources.filter((f) => f !== coordinator)],
      ["solc-0.8.28", [coordinator]],
    ] as const) {
      for (const f of files)
        expect(readFileSync(join(pkg, f), "utf8"), f).to.match(
          solcPackage === "solc-0.8.20" ? /pragma solidity \^0\.8\.20;/ : /pragma solidity \^0\.8\.28;/,
        );
      const solc = createRequire(join(dapp, "package.json"))(solcPackage) as {
        compile(input: string, cb: object): string;
        version(): string;
      };
      const input = {
        language: "Solidity",
        sources: Object.fromEntries(
          files.map((f) => [`@zkinfer/contracts/${f}`, { content: readFileSync(join(pkg, f), "utf8") }]),
        ),
        settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { "*": { "*": ["abi"] } } },
      };
      const findImports = (path: string) => {
        try {
          return { contents: readFileSync(join(dapp, "node_modules", path), "utf8") };
        } catch {
          return { error: `not found: ${path}` };
        }
      };
      const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
        errors?: { severity: string; formattedMessage: string }[];
      };
      const errors = (out.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage);
      expect(errors, `${solc.version()}: ${files.length} files`).to.deep.equal([]);
    }
  });

  it("type-checks a TypeScript dApp against the installed SDK's .d.ts (typed ABIs, no `any`)", async () => {
    const tsc = await timed("tsc (SDK types)", () =>
      runCommand(join(dapp, "node_modules/.bin/tsc"), ["-p", "ts/tsconfig.json"], toolEnv(), 120_000, dapp),
    );
    ok("tsc -p ts/tsconfig.json", tsc);
  });

  it("deploys the suite with zkinfer, and a plain-node SDK script gets two verified inferences fulfilled by the installed zkinfer serve", async () => {
    node = await timed("hardhat node", () => startHardhatNode({ project: dapp }));
    const deployments = join(dapp, "deployments");
    const env = { ZKINFER_RPC_URL: node.url, ZKINFER_PRIVATE_KEY: DEV_KEYS[0]!, ZKINFER_DEPLOYMENTS_DIR: deployments };
    ok("zkinfer deploy", await timed("zkinfer deploy", () => zkinfer(["deploy", "--json"], env)));
    const model = await builtExample("diabetes-mlp");
    // Registering and serving from the installed @zkinfer/prover (EZKL in the checkout's .venv, as ZKINFER_PYTHON).
    const installed = join(dapp, "node_modules/.bin/zkinfer");
    const proverEnv = { ...toolEnv(), ...env, ZKINFER_CONFIG: "", ZKINFER_PYTHON: join(projectRoot, ".venv/bin/python") };
    const register = await timed("zkinfer model register", () =>
      runCommand(installed, ["model", "register", model.dir, "--json"], proverEnv, 300_000, dapp),
    );
    ok("zkinfer model register (installed)", register);
    const deploy = await runCommand(installed, ["deploy"], proverEnv, 60_000, dapp);
    expect(deploy.status, "the installed package does not deploy").to.equal(1);
    expect(deploy.stderr).to.match(/^error: `zkinfer deploy` needs a zkinfer checkout.*\nhint: /m);
    const { modelId } = JSON.parse(register.stdout) as { modelId: Hex };
    service = await timed("zkinfer serve start", () =>
      startServiceProcess(
        ["-m", model.dir, "--db", join(work, "jobs.sqlite"), "--confirmations", "0", "--poll-ms", "250"],
        { ...proverEnv, ZKINFER_PRIVATE_KEY: DEV_KEYS[1]! } as Record<string, string>,
        { bin: installed, cwd: dapp },
      ),
    );

    const heldout = await readJson<Heldout>((await exampleSource("diabetes-mlp")).heldout!, "heldout.json");
    const sdkNode = await oldestClaimedNode();
    const run = await timed("SDK script (2 requests)", () =>
      runCommand(
        sdkNode,
        ["scripts/infer.mjs"],
        {
          PATH: process.env.PATH ?? "",
          RPC_URL: node!.url,
          PRIVATE_KEY: DEV_KEYS[2]!,
          MODEL_ID: modelId,
          DEPLOYMENTS: deployments,
          INPUT: JSON.stringify(heldout.inputs[0]),
        },
        300_000,
        dapp,
      ),
    );
    ok(`node scripts/infer.mjs\n${service.log().slice(-3000)}`, run);
    interface Settled {
      requestId: string;
      outputs: number[];
      fixed: string[];
      callback: string;
      receiptCallback: number;
      valid: boolean;
      checks: { name: string; ok: boolean }[];
    }
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
      node: string;
      fromSdk: Settled;
      fromContract: Settled;
      stored: string[];
    };
    console.log(`      SDK script ran under node ${out.node} (${sdkNode})`);
    const tolerance = model.manifest.accuracy?.tolerance ?? 0.005;
    for (const [what, s] of [
      ["from the account", out.fromSdk],
      ["through the consumer", out.fromContract],
    ] as const) {
      expect(s.valid, `${what}: ${JSON.stringify(s.checks)}`).to.equal(true);
      expect(s.checks.length, what).to.be.greaterThan(2);
      expect(
        s.checks.every((c) => c.ok),
        what,
      ).to.equal(true);
      expect(s.outputs).to.have.length(1);
      expect(Math.abs(s.outputs[0]! - heldout.float_outputs[0]![0]!), `${what}: verified vs float model`).to.be.lessThan(
        tolerance,
      );
    }
    expect(out.fromSdk.callback, "an account gets no callback").to.equal("none");
    expect(out.fromContract.callback).to.equal("succeeded");
    // The receipts were rebuilt from the logs and confirmed by the coordinator (checkReceipt), callback status and all.
    expect([out.fromSdk.receiptCallback, out.fromContract.receiptCallback]).to.deep.equal([0, 1]);
    for (const s of [out.fromSdk, out.fromContract]) expect(s.checks.find((c) => c.name === "receipt")).to.include({ ok: true });
    expect(out.stored, "the consumer stored the verified outputs").to.deep.equal(out.fromContract.fixed);
    expect(out.fromContract.requestId).to.not.equal(out.fromSdk.requestId);
  });
});

/** The system's Node when it is 20 (the oldest version the SDK claims), else this process's. */
async function oldestClaimedNode(): Promise<string> {
  for (const candidate of ["/usr/bin/node", "/usr/local/bin/node"]) {
    const r = await runCommand(candidate, ["--version"], {}, 10_000).catch(() => undefined);
    if (r?.status === 0 && r.stdout.startsWith("v20.")) return candidate;
  }
  return process.execPath;
}
