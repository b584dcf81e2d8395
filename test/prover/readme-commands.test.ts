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
 * points really run under the oldest Node on this machine (its system Node). Blocks that begin with
 * `# in your project` are run in a dApp's own project on the packages, where the guide claims Node >= 22 for
 * Hardhat 3 and the prover package and Node >= 20 for the SDK: test/e2e/outside-project.test.ts runs those
 * commands (under Node 22, and the SDK script under the system's Node 20); here they are checked to be of those
 * kinds, naming the tarballs `npm run pack` writes.
 */
const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
const scripts = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> })
  .scripts;

const IN_PROJECT = "# in your project";

function shellCommands(where: "checkout" | "project" = "checkout"): string[] {
  const out: string[] = [];
  for (const block of readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)) {
    if (block[1]!.startsWith(IN_PROJECT) !== (where === "project")) continue;
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

  it("shows in a dApp's project only commands the outside-project test runs, with the tarballs npm run pack writes", () => {
    const commands = shellCommands("project");
    expect(commands.length).to.be.greaterThan(1);
    const tarballs = ["contracts", "prover/sdk", "prover"].map((dir) => {
      const { name, version } = JSON.parse(readFileSync(join(projectRoot, dir, "package.json"), "utf8")) as {
        name: string;
        version: string;
      };
      return `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
    });
    for (const cmd of commands) {
      const [tool, first, ...rest] = cmd.split(/\s+/);
      if (tool === "npm") {
        expect(first, cmd).to.equal("install");
        for (const arg of rest.filter((a) => a.endsWith(".tgz"))) expect(tarballs, cmd).to.include(arg.split("/").at(-1));
        expect(
          rest.filter((a) => !a.endsWith(".tgz") && a !== "viem"),
          `${cmd}: installs only the tarballs and viem`,
        ).to.deep.equal([]);
      } else if (tool === "npx") {
        expect(["hardhat", "zkinfer"], cmd).to.include(first);
      } else {
        expect(cmd, "plain node on a script").to.match(/^node \S+\.mjs$/);
      }
    }
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
