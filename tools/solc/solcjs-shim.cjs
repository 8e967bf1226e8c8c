#!/usr/bin/env node
// A solc-compatible command backed by the npm `solc` package (WebAssembly).
//
// py-solc-x and brownie drive a native solc with `solc --version` and
// `solc --standard-json [--allow-paths P] [--base-path B]` (JSON on stdin). This
// command answers both the same way, resolving imports from the base path, the
// allowed paths, the working directory and the project's node_modules, so that
// compilation needs no download.
'use strict';
const fs = require('fs');
const path = require('path');

const projectRoot = process.env.JOURNEY_PROJECT_ROOT || path.resolve(__dirname, '..', '..');
const solc = require(path.join(projectRoot, 'node_modules', 'solc'));

function fail(message, code) {
  process.stderr.write(`solc (solcjs shim): ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const opts = { allowPaths: [], basePath: null, includePaths: [], standardJson: false, version: false };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--version': opts.version = true; break;
      case '--standard-json': opts.standardJson = true; break;
      case '--allow-paths': opts.allowPaths.push(...value().split(',').filter(Boolean)); break;
      case '--base-path': opts.basePath = value(); break;
      case '--include-path': opts.includePaths.push(value()); break;
      default: fail(`unsupported argument ${arg}: only --version and --standard-json are offered`, 2);
    }
  }
  return opts;
}

function makeImportResolver(opts) {
  const roots = [opts.basePath, ...opts.includePaths, process.cwd(), ...opts.allowPaths,
    path.join(projectRoot, 'node_modules'), projectRoot].filter(Boolean);
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      }
    }
    return { error: `File not found: ${importPath} (looked in ${roots.join(', ')})` };
  };
}

const opts = parseArgs(process.argv.slice(2));
if (opts.version) {
  // Same shape as the native compiler, which py-solc-x parses.
  const full = solc.version().replace('.Emscripten.clang', '.Linux.g++');
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${full}\n`);
  process.exit(0);
}
if (!opts.standardJson) fail('nothing to do: pass --version or --standard-json', 2);

const input = fs.readFileSync(0, 'utf8');
const output = solc.compile(input, { import: makeImportResolver(opts) });
process.stdout.write(output);
process.stdout.write('\n');
