// The Node.js half of lib/core/aws.py's fast import, preloaded into the jsii kernel (`node --require`,
// set up by lib/__init__.py).
//
// The AWS bindings' package index (lib/index.js of @cdktf/provider-aws, or of @cdktn/provider-aws
// when the project is built with CDK Terrain) requires all of its ~2,100-2,400 resource modules
// when the assembly is loaded: about 2.3 s of every synth and test process. This rewrites that one
// file's eager exports (`exports.x = require("./x");`, or the fork's
// `exports.x = __importStar(require("./x/index"));`) into getters that require the module on first
// use, the lazy-export pattern aws-cdk-lib ships itself. Nothing else is touched;
// tests/test_fast_import.py proves the synthesized JSON is byte-identical to the eager style.
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

const PROVIDER_INDEXES = ["@cdktf", "@cdktn"].map((scope) =>
  path.join(scope, "provider-aws", "lib", "index.js"));
// name, then the whole right-hand side, which the getter evaluates on first use.
const EAGER_EXPORT =
  /^exports\.(\w+) = ((?:__importStar\()?require\("\.\/[\w-]+(?:\/index)?"\)\)?);$/gm;
const loadJs = Module._extensions[".js"];

Module._extensions[".js"] = function lazyProviderIndex(module, filename) {
  if (!PROVIDER_INDEXES.some((index) => filename.endsWith(index))) {
    return loadJs(module, filename);
  }
  // A getter that replaces itself with the value: __importStar builds a new object per call.
  const source = fs.readFileSync(filename, "utf8").replace(EAGER_EXPORT, (_, name, load) =>
    `Object.defineProperty(exports, "${name}", { enumerable: true, configurable: true, ` +
    `get() { const m = ${load}; Object.defineProperty(exports, "${name}", ` +
    `{ enumerable: true, value: m }); return m; } });`);
  return module._compile(source, filename);
};
