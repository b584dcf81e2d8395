import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { FileNotFoundError, InvalidModelError, UserInputError } from "../errors.js";

/**
 * A model's source: an ONNX file and, in a model directory, the files that come with it
 * (examples/models/<name>/: network.onnx, calibration.json, input.json, heldout.json, model.json).
 */
export interface ModelSource {
  name: string;
  dir: string;
  onnx: string;
  calibration: string | null;
  sampleInput: string | null;
  heldout: string | null;
  meta: ModelMeta | null;
}

export interface ModelMeta {
  name?: string;
  title?: string;
  description?: string;
  task?: "classification" | "regression";
  outputLabels?: string[];
  tolerance?: number;
  [key: string]: unknown;
}

export interface Heldout {
  inputs: number[][];
  labels: number[];
  float_outputs: number[][];
}

const optional = (path: string): string | null => (existsSync(path) ? path : null);

export async function resolveModelSource(pathArg: string): Promise<ModelSource> {
  const path = resolve(pathArg);
  if (!existsSync(path)) throw new FileNotFoundError(pathArg, "model directory or ONNX file");
  let dir: string;
  let onnx: string;
  if (statSync(path).isDirectory()) {
    dir = path;
    onnx = join(dir, "network.onnx");
    if (!existsSync(onnx)) {
      throw new FileNotFoundError(onnx, "ONNX model", {
        hint: "a model directory holds network.onnx (plus optional calibration.json, input.json, heldout.json, model.json)",
      });
    }
  } else {
    if (!path.endsWith(".onnx")) {
      throw new UserInputError(`${pathArg} is neither a model directory nor an .onnx file`, {
        hint: "pass a directory holding network.onnx, or the .onnx file itself",
      });
    }
    onnx = path;
    dir = dirname(path);
  }
  const isDirSource = onnx === join(dir, "network.onnx");
  const meta =
    isDirSource && existsSync(join(dir, "model.json")) ? await readJson<ModelMeta>(join(dir, "model.json"), "model.json") : null;
  const name = sanitizeName(meta?.name ?? (isDirSource ? basename(dir) : basename(onnx, ".onnx")));
  return {
    name,
    dir,
    onnx,
    calibration: isDirSource ? optional(join(dir, "calibration.json")) : null,
    sampleInput: isDirSource ? optional(join(dir, "input.json")) : null,
    heldout: isDirSource ? optional(join(dir, "heldout.json")) : null,
    meta,
  };
}

export function sanitizeName(name: string): string {
  const clean = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!clean)
    throw new InvalidModelError(`cannot derive a model name from '${name}'`, {
      hint: "name the model directory with letters and digits",
    });
  return clean;
}

export async function readJson<T>(path: string, what: string): Promise<T> {
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch {
    throw new FileNotFoundError(path, what);
  }
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new UserInputError(`${what} at ${path} is not valid JSON (${(e as Error).message})`, {
      hint: "fix the file's JSON syntax",
    });
  }
}
