#!/usr/bin/env node
// Makes the npm `solc` package (solcjs) answer like a native `solc` binary, for py-solc-x:
//   solc_bridge.js --version
//   solc_bridge.js --standard-json [--base-path P] [--allow-paths A,B] [--include-path I]... < input.json
// Raw `solcjs --standard-json` cannot be used: it prints a non-JSON line before its output.
// Which solc package to load: $MEDLEDGER_SOLCJS (a folder), else the nearest node_modules/solc
// from the working directory, then from this file's folder.
"use strict";

const fs = require("fs");
const path = require("path");

function loadSolc() {
  const searchFrom = [];
  if (process.env.MEDLEDGER_SOLCJS) {
    return require(path.resolve(process.env.MEDLEDGER_SOLCJS));
  }
  searchFrom.push(process.cwd(), __dirname);
  const resolved = require.resolve("solc", { paths: searchFrom });
  return require(resolved);
}

function parseArgs(argv) {
  const options = { version: false, standardJson: false, basePath: null, includePaths: [], allowPaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      if (i + 1 >= argv.length) {
        fail(`option ${arg} needs a value`);
      }
      return argv[++i];
    };
    if (arg === "--version") options.version = true;
    else if (arg === "--standard-json") options.standardJson = true;
    else if (arg === "--base-path") options.basePath = takeValue();
    else if (arg === "--include-path") options.includePaths.push(takeValue());
    else if (arg === "--allow-paths") options.allowPaths.push(...takeValue().split(",").filter(Boolean));
    else if (arg === "-") continue;
    else fail(`unsupported option ${arg} (this bridge speaks only --version and --standard-json)`);
  }
  return options;
}

function fail(message) {
  process.stderr.write(`solc_bridge: ${message}\n`);
  process.exit(2);
}

function importReader(options) {
  const roots = [];
  if (options.basePath) roots.push(path.resolve(options.basePath));
  for (const p of options.includePaths) roots.push(path.resolve(p));
  roots.push(process.cwd(), path.join(process.cwd(), "node_modules"));
  return function findImports(sourceUnitName) {
    for (const root of roots) {
      const candidate = path.resolve(root, sourceUnitName);
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found: ${sourceUnitName} (looked in ${roots.join(", ")})` };
  };
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const solc = loadSolc();
  if (options.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (!options.standardJson) {
    fail("nothing to do: pass --version or --standard-json");
  }
  const input = fs.readFileSync(0, "utf8");
  const output = solc.compile(input, { import: importReader(options) });
  process.stdout.write(output);
}

main();
