// Validates a Teams manifest localization file (nn.json, en.json in the package) against
// Microsoft's bundled MicrosoftTeams.Localization schema, offline. argv[2]: the file.
// stdout: {"schemaFile": ..., "errors": [...]}. Refuses a schema version that is not bundled.
"use strict";
const fs = require("fs");
const path = require("path");

// The schema's patterns are written for JavaScript regular expressions without the "u" flag
// (ajv's default would reject them), so ajv is set up here as the manifest library sets it up,
// with unicodeRegExp off; ajv and its draft-04 build are the library's own dependencies.
const pkgDir = path.dirname(require.resolve("@microsoft/app-manifest/package.json"));
const Ajv04 = require(require.resolve("ajv-draft-04", { paths: [pkgDir] }));
const addFormats = require(require.resolve("ajv-formats", { paths: [pkgDir] }));

async function main() {
  const strings = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const match = /\/v(\d+\.\d+)\/MicrosoftTeams\.Localization\.schema\.json$/.exec(strings.$schema || "");
  if (!match) throw new Error("$schema is not a Teams localization schema URL: " + strings.$schema);
  const schemaFile = path.join(pkgDir, "build", "json-schemas", "teams", "v" + match[1],
                               "MicrosoftTeams.Localization.schema.json");
  if (!fs.existsSync(schemaFile)) throw new Error("schema not bundled offline: v" + match[1]);
  const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"));
  const ajv = new Ajv04({ allErrors: true, strictTypes: false, unicodeRegExp: false });
  addFormats(ajv, ["uri", "email", "regex"]);
  const validate = ajv.compile(schema);
  const errors = validate(strings) ? [] : validate.errors.map((e) => `${e.instancePath} ${e.message}`);
  process.stdout.write(JSON.stringify({ schemaFile, errors }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
