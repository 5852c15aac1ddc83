// Builds the todos web app into dist/ (or --outdir DIR): src/main.tsx bundled and minified by
// esbuild into app.js (with a source map), index.html and style.css copied. dist/ is not
// committed: build it before `cargo run -p todos-server`, which serves it at `/`.
//
//   node build.mjs                 # writes dist/
//   node build.mjs --outdir DIR    # writes DIR/ (created if missing)

import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { outdir: { type: "string", default: "dist" } } });
const outdir = path.resolve(process.cwd(), values.outdir);

mkdirSync(outdir, { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["src/main.tsx"],
  outfile: path.join(outdir, "app.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  jsx: "automatic",
  minify: true,
  sourcemap: true,
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) copyFileSync(path.join(here, file), path.join(outdir, file));
console.log(`built ${values.outdir}/{app.js,app.js.map,index.html,style.css}`);
