// Validates a Teams app manifest against Microsoft's bundled schema (npm "@microsoft/app-manifest"),
// offline. argv[2]: path to manifest.json. stdout: {"schemaFile": ..., "errors": [...]}.
// Refuses to run if the schema the manifest names is not bundled (the library would go online).
"use strict";
const fs = require("fs");
const path = require("path");
const { AppManifestUtils } = require("@microsoft/app-manifest");

async function main() {
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const match = /\/v(\d+\.\d+)\/MicrosoftTeams\.schema\.json$/.exec(manifest.$schema || "");
  if (!match) throw new Error("manifest $schema is not a Teams schema URL: " + manifest.$schema);
  const pkgDir = path.dirname(require.resolve("@microsoft/app-manifest/package.json"));
  const schemaFile = path.join(pkgDir, "build", "json-schemas", "teams", "v" + match[1],
                               "MicrosoftTeams.schema.json");
  if (!fs.existsSync(schemaFile)) throw new Error("schema not bundled offline: v" + match[1]);
  const errors = await AppManifestUtils.validateAgainstSchema(manifest);
  process.stdout.write(JSON.stringify({ schemaFile, errors }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
