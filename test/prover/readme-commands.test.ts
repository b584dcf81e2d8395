import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../prover/src/util/paths.js";
import { runCommand } from "../helpers/cli.js";

/**
 * README's claim: every command it shows runs under the system's Node (>= 20), because each one starts the
 * project's own Node 22. Checked two ways: every npx/npm command in README's shell blocks goes through an
 * entry point that bootstraps Node 22 (bin/zkinfer, or an npm script that runs `bash ...`), and the entry
 * points really run under the oldest Node on this machine (its system Node).
 */
const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
const scripts = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> })
  .scripts;

function shellCommands(): string[] {
  const out: string[] = [];
  for (const block of readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    for (const raw of block[1]!.split("\n")) {
      const line = raw.replace(/\s+#.*$/, "").trim();
      if (/^(npx|npm)\s/.test(line)) out.push(line.replace(/\s*&$/, ""));
    }
  }
  return out;
}

/** PATH without the project's Node 22 and node_modules/.bin: what a user's shell has. */
function systemPath(): string {
  return (process.env.PATH ?? "")
    .split(":")
    .filter((p) => !p.startsWith(join(projectRoot, ".tools")) && !p.startsWith(join(projectRoot, "node_modules")))
    .join(":");
}

describe("README: every command runs on the Node versions it claims", () => {
  it("shows only npx/npm commands that start the project's own Node 22", () => {
    const commands = shellCommands();
    expect(commands.length).to.be.greaterThan(10);
    for (const cmd of commands) {
      const [tool, first, second] = cmd.split(/\s+/);
      if (tool === "npx") {
        expect(first, `${cmd}: npx of anything but zkinfer runs under the system's Node`).to.equal("zkinfer");
        continue;
      }
      if (first === "test" || first === "ci") continue; // `npm test` is the `test` script, below
      expect(first, cmd).to.equal("run");
      expect(scripts, cmd).to.have.property(second!);
      expect(scripts[second!], `${cmd}: the script must bootstrap Node 22 (bash scripts/run.sh or bin/zkinfer)`).to.match(
        /^bash /,
      );
    }
    expect(scripts.test).to.match(/^bash /);
  });

  it("runs the entry points under the system's Node", async function () {
    const env = { ...process.env, PATH: systemPath() };
    const version = execFileSync("node", ["--version"], { env, encoding: "utf8" }).trim();
    this.test!.title += ` (${version})`;
    expect(Number(/^v(\d+)/.exec(version)![1])).to.be.at.least(20);
    const help = await runCommand("npx", ["zkinfer", "--help"], { ...env, ZKINFER_CONFIG: "" }, 120_000);
    expect(help.status, help.stderr).to.equal(0);
    expect(help.stdout).to.match(/Usage: zkinfer/);
    const hardhat = await runCommand("npm", ["run", "--silent", "hardhat", "--", "--version"], env, 120_000);
    expect(hardhat.status, hardhat.stderr).to.equal(0);
    expect(hardhat.stdout.trim()).to.match(/^3\.\d+\.\d+/);
  });
});
