import type { Command } from "commander";
import { UserInputError } from "../../errors.js";
import { CEREMONY_SRS_SHA256, importCeremonySrs } from "../../models/srs.js";
import type { CliContext } from "../context.js";
import { table, toJson } from "../format.js";

export function registerSrs(program: Command, _ctx: CliContext): void {
  const srs = program.command("srs").description("the structured reference string (SRS) builds set keys up with");
  srs
    .command("import")
    .summary("import the public ceremony SRS file for logrows k, checked against EZKL's pinned SHA-256")
    .description(
      "import the public Perpetual Powers of Tau ceremony SRS for logrows k (the file EZKL's get_srs downloads, " +
        "perpetual-powers-of-tau-raw-<k>): its SHA-256 must be the one EZKL pins for k (1..26, zkonduit/ezkl " +
        "src/srs_sha.rs). It is copied to .zkinfer/srs/ceremony-k<k>.srs, where every later `zkinfer model build` " +
        "for that logrows finds it instead of generating a dev SRS. Builds on the ceremony SRS are recorded as such " +
        "in the manifest and on-chain",
    )
    .argument("<file>", "the downloaded ceremony SRS file")
    .requiredOption("--logrows <k>", "the logrows (k) the file is for")
    .option("--json", "print the result as JSON")
    .action(async (file: string, opts: { logrows: string; json?: boolean }) => {
      const k = Number(opts.logrows);
      if (!Number.isInteger(k) || CEREMONY_SRS_SHA256[k] === undefined)
        throw new UserInputError(`--logrows must be an integer from 1 to 26, not '${opts.logrows}'`);
      const r = await importCeremonySrs(file, k);
      if (opts.json) console.log(toJson({ logrows: k, ...r }));
      else
        console.log(
          table([
            ["logrows", String(k)],
            ["sha256", `${r.sha256} (EZKL's pinned ceremony hash)`],
            ["placed at", r.path],
          ]),
        );
    });
}
