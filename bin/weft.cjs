#!/usr/bin/env node
// The `weft` command. The build (npm's prepare step) bundles the TypeScript sources into dist/.
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const bundle = join(__dirname, "..", "dist", "weft.cjs");
if (!existsSync(bundle)) {
  console.error("weft: dist/weft.cjs is missing; run 'npm run build' in the weft checkout");
  process.exit(1);
}
require(bundle);
