import { copyFileSync, existsSync, linkSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { cacheDir } from "../util/paths.js";
import { readManifest, type Manifest } from "./manifest.js";

/**
 * The content-addressed artifact store: .zkinfer/models/<name>-<buildKey[0:16]>/ holds everything a
 * build produced, with manifest.json written last. A build works in a .tmp-* directory and renames it
 * into place only when complete, so a directory with a manifest is always a finished build.
 */
export function modelsDir(): string {
  return join(cacheDir(), "models");
}

export function artifactDirFor(name: string, buildKey: string): string {
  return join(modelsDir(), `${name}-${buildKey.slice(0, 16)}`);
}

export interface LoadedModel {
  dir: string;
  manifest: Manifest;
  /** Absolute path of one of the manifest's files. */
  file(key: keyof Manifest["files"]): string;
}

export async function loadArtifact(dir: string): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  return {
    dir,
    manifest,
    file(key) {
      return join(dir, manifest.files[key]);
    },
  };
}

/** The newest finished build of a model by name, or undefined. */
export async function findBuiltByName(name: string): Promise<LoadedModel | undefined> {
  const root = modelsDir();
  if (!existsSync(root)) return undefined;
  const candidates = readdirSync(root)
    .filter((d) => d.startsWith(`${name}-`) && existsSync(join(root, d, "manifest.json")))
    .map((d) => join(root, d))
    .sort((a, b) => statSync(join(b, "manifest.json")).mtimeMs - statSync(join(a, "manifest.json")).mtimeMs);
  return candidates[0] ? loadArtifact(candidates[0]) : undefined;
}

/**
 * Remove .tmp-* build directories left by builds that died (their process is gone). A live build's
 * directory is left alone.
 */
export function sweepAbandonedBuilds(root: string = modelsDir()): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const d of readdirSync(root)) {
    const m = /^\.tmp-.*-p(\d+)-[0-9a-f]+$/.exec(d);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    rmSync(join(root, d), { recursive: true, force: true });
    removed.push(d);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Hard-link when possible (SRS files are large and immutable), else copy. */
export function placeFile(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}
