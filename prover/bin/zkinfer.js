#!/usr/bin/env node
// The installed @zkinfer/prover's `zkinfer`: the CLI's TypeScript run through tsx's loader (registered here, so no
// flag is needed). In a checkout, ./bin/zkinfer does the same after installing the toolchain.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
