// The Node.js half of lib/core/aws.py's fast import, preloaded into the jsii kernel (`node --require`,
// set up by lib/__init__.py).
//
// The @cdktf/provider-aws package index (lib/index.js) requires all of its ~2,100 resource modules
// when the assembly is loaded: about 2.3 s of every synth and test process. This rewrites that one
// file's `exports.x = require("./x");` lines into getters that require the module on first use,
// the lazy-export pattern aws-cdk-lib ships itself. Nothing else is touched; tests/test_fast_import.py
// proves the synthesized JSON is byte-identical to the documented, eager style.
"use strict";
const fs = require("fs");
const Module = require("module");
const path = require("path");

const PROVIDER_INDEX = path.join("@cdktf", "provider-aws", "lib", "index.js");
const EAGER_EXPORT = /^exports\.(\w+) = require\(("\.\/[\w-]+")\);$/gm;
const loadJs = Module._extensions[".js"];

Module._extensions[".js"] = function lazyProviderIndex(module, filename) {
  if (!filename.endsWith(PROVIDER_INDEX)) {
    return loadJs(module, filename);
  }
  const source = fs.readFileSync(filename, "utf8").replace(EAGER_EXPORT, (_, name, target) =>
    `Object.defineProperty(exports, "${name}", ` +
    `{ enumerable: true, configurable: true, get: () => require(${target}) });`);
  return module._compile(source, filename);
};
