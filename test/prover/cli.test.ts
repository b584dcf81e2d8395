import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../prover/src/util/paths.js";
import { isAlive } from "../helpers/wait.js";
import { builtExample } from "../helpers/models.js";

const CLI = join(projectRoot, "bin/zkinfer");

function zkinfer(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(CLI, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The user-facing error contract: one `error:` line naming the problem, a hint, no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp) {
  const lines = stderr.split("\n").filter((l) => l.startsWith("error: "));
  expect(lines, stderr).to.have.length(1);
  expect(lines[0]).to.match(pattern);
  expect(stderr).to.match(/^hint: /m);
  expect(stderr).to.not.match(/^\s+at .+:\d+:\d+\)?$/m);
}

const childrenOf = (pid: number): number[] =>
  spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
    .stdout.split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);

describe("zkinfer CLI: errors a user can act on", () => {
  let cache: string;
  beforeEach(() => {
    cache = mkdtempSync(join(tmpdir(), "zkinfer-cache-"));
  });
  afterEach(() => rmSync(cache, { recursive: true, force: true }));

  it("refuses a malformed ONNX file before generating anything", () => {
    const bad = join(cache, "broken.onnx");
    writeFileSync(bad, Buffer.from("definitely not an ONNX protobuf \x00\x01\x02"));
    const r = zkinfer(["model", "build", bad], { ZKINFER_CACHE_DIR: cache });
    expect(r.code).to.equal(1);
    expectOneLineError(r.stderr, /broken\.onnx is not a valid ONNX model/);
    const models = join(cache, "models");
    expect(existsSync(models) ? readdirSync(models) : []).to.deep.equal([]);
    expect(existsSync(join(cache, "srs"))).to.equal(false);
  });

  it("names a missing model file", () => {
    const r = zkinfer(["model", "build", join(cache, "nowhere/network.onnx")], { ZKINFER_CACHE_DIR: cache });
    expect(r.code).to.equal(1);
    expectOneLineError(r.stderr, /model directory or ONNX file not found: .*nowhere\/network\.onnx/);
  });

  it("names an input of the wrong shape and the shape it needs", () => {
    // Uses the shared .zkinfer cache: the example is built once for the whole run.
    const input = join(cache, "short.json");
    writeFileSync(input, JSON.stringify({ input_data: [[0.1, 0.2, 0.3]] }));
    const r = zkinfer(["prove", join(projectRoot, "examples/models/diabetes-mlp"), input]);
    expect(r.code).to.equal(1);
    expectOneLineError(r.stderr, /has 3 values but model 'diabetes-mlp' takes 10 \(shape \[1, 10\]\)/);
  });

  it("refuses an input outside the tuned circuit's range with one error line and a hint", async () => {
    const { manifest } = await builtExample("diabetes-mlp");
    const over = manifest.inputRange!.maxAbs * 4;
    const input = join(cache, "large.json");
    writeFileSync(input, JSON.stringify({ input_data: [[over, 0, 0, 0, 0, 0, 0, 0, 0, 0]] }));
    const r = zkinfer(["prove", join(projectRoot, "examples/models/diabetes-mlp"), input]);
    expect(r.code).to.equal(1);
    expectOneLineError(
      r.stderr,
      new RegExp(`input element 0 \\(${over}\\) is outside the circuit's range \\(\\|x\\| <= ${manifest.inputRange!.maxAbs}\\)`),
    );
    expect(r.stderr).to.not.match(/General synthesis error/);
  });

  it("names a missing input file", () => {
    const r = zkinfer(["prove", join(projectRoot, "examples/models/diabetes-mlp"), join(cache, "missing.json")]);
    expect(r.code).to.equal(1);
    expectOneLineError(r.stderr, /input file not found: .*missing\.json/);
  });

  it("leaves no artifact directory a later build would take as complete when killed mid-build, and no orphan worker", async () => {
    const src = join(projectRoot, "examples/models/diabetes-mlp");
    const child = spawn(CLI, ["model", "build", src], {
      env: { ...process.env, ZKINFER_CACHE_DIR: cache },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    // Wait for the key setup step, then kill the CLI outright.
    const deadline = Date.now() + 120_000;
    while (!/key setup/.test(err) && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 50));
    expect(err).to.match(/key setup/);
    const workers = childrenOf(child.pid!);
    expect(workers.length).to.be.greaterThan(0);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));

    const end = Date.now() + 5000;
    while (workers.some(isAlive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(workers.filter(isAlive), "worker processes outlived the CLI").to.deep.equal([]);
    const models = readdirSync(join(cache, "models"));
    expect(models.every((d) => d.startsWith(".tmp-"))).to.equal(true);
    expect(models.some((d) => existsSync(join(cache, "models", d, "manifest.json")))).to.equal(false);

    // The next build is a full build (not a cache hit) and sweeps the dead build's directory.
    const r = zkinfer(["model", "build", src], { ZKINFER_CACHE_DIR: cache });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.not.match(/cache hit/);
    const after = readdirSync(join(cache, "models"));
    expect(after).to.have.length(1);
    expect(after[0]).to.match(/^diabetes-mlp-[0-9a-f]{16}$/);
    expect(JSON.parse(readFileSync(join(cache, "models", after[0]!, "manifest.json"), "utf8")).name).to.equal("diabetes-mlp");
  });
});
