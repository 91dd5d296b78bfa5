// Checks Adaptive Cards with Microsoft's own parser (npm "adaptivecards"), offline.
// stdin: a JSON array of cards. stdout: a JSON array, one list of findings per card.
// Any parse event or validation event is a finding.
"use strict";
const AC = require("adaptivecards/dist/adaptivecards.js");

function check(json) {
  const findings = [];
  const card = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext(AC.Versions.v1_5);
  card.parse(json, ctx);
  for (let i = 0; i < ctx.eventCount; i++) {
    const e = ctx.getEventAt(i);
    findings.push({ phase: "parse", event: AC.ValidationEvent[e.event], message: e.message });
  }
  const results = card.validateProperties();
  for (const e of results.validationEvents) {
    findings.push({ phase: "validate", event: AC.ValidationEvent[e.event], message: e.message });
  }
  return findings;
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const cards = JSON.parse(input);
  process.stdout.write(JSON.stringify(cards.map(check)));
});
