// A node starting on a job store: `open-store.ts <store> <start-at-ms>` waits until the given time, so that
// several such processes open the store at the same moment, then opens and closes it and prints "opened".
import { JobStore } from "../../prover/src/service/store.js";

const [where, startAt] = process.argv.slice(2);
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
const store = await JobStore.open(where!);
await store.close();
console.log("opened");
