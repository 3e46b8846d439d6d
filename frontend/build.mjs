// Bundles the playground's own small entry modules with their npm dependencies into
// glassgrad/playground/static/build/ (ignored by git: built by `npm run build`, by .ci/run and by
// `pip install`). The bundles are listed in bundles.json, one line each (setup.py reads it too, to
// see whether one is missing); an entry whose source is not there is skipped. Each bundle starts
// with the licences of the npm packages bundled into it (they ship in the wheel).

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "glassgrad/playground/static/build");

/** source (relative to the repository root) → the bundle's name in static/build/. */
const ENTRIES = Object.entries(JSON.parse(readFileSync(join(ROOT, "frontend/bundles.json"), "utf8")));

/** The npm packages (name → folder) whose files went into a bundle, from esbuild's metafile. */
function bundledPackages(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) packages.set(match[1], join(ROOT, "frontend/node_modules", match[1]));
  }
  return [...packages].sort(([a], [b]) => a.localeCompare(b));
}

function licenceComment(metafile) {
  const parts = [];
  for (const [name, folder] of bundledPackages(metafile)) {
    const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
    const file = readdirSync(folder).find((entry) => /^licen[cs]e/i.test(entry));
    const text = file ? readFileSync(join(folder, file), "utf8").trim() : `licence: ${meta.license}`;
    parts.push(`${name} ${meta.version}\n\n${text}`);
  }
  if (!parts.length) return "";
  return `/*! Bundled from npm packages by frontend/build.mjs. Their licences:\n\n${parts.join("\n\n---\n\n")
    .replaceAll("*/", "* /")}\n*/\n`;
}

mkdirSync(OUT, { recursive: true });
for (const [source, bundle] of ENTRIES) {
  const entry = join(ROOT, source);
  if (!existsSync(entry)) {
    console.log(`skipped ${source} (not there)`);
    continue;
  }
  const target = join(OUT, bundle);
  const result = await build({
    entryPoints: [entry], bundle: true, format: "esm", minify: true, target: "es2020", metafile: true,
    write: false, legalComments: "none", nodePaths: [join(ROOT, "frontend/node_modules")], logLevel: "warning",
  });
  const code = result.outputFiles[0].text;
  writeFileSync(target, licenceComment(result.metafile) + code);
  console.log(`built ${source} → glassgrad/playground/static/build/${bundle} (${Math.round(code.length / 1024)} KiB)`);
}
