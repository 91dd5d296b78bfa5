// Checks Adaptive Cards with Microsoft's own parser (npm "adaptivecards"), offline.
// stdin: a JSON array of cards. stdout: a JSON array, one list of findings per card.
// Any parse event or validation event is a finding.
"use strict";
const AC = require("adaptivecards/dist/adaptivecards.js");

// Teams' people picker: an Input.ChoiceSet whose choices come from the organisation's directory
// ("choices.data", a Data.Query on graph.microsoft.com/users). Teams documents it for its cards
// (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/people-picker);
// the npm parser knows the property only from schema 1.6 on. Exactly this form is taken out before
// parsing; any other "choices.data" stays in and is reported.
const PEOPLE = "graph.microsoft.com/users";

function withoutPeoplePickers(node, findings) {
  if (Array.isArray(node)) return node.map((item) => withoutPeoplePickers(item, findings));
  if (node === null || typeof node !== "object") return node;
  const copy = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "choices.data" && node.type === "Input.ChoiceSet") {
      const ok =
        value && value.type === "Data.Query" && value.dataset === PEOPLE &&
        Object.keys(value).every((k) => ["type", "dataset"].includes(k));
      if (ok) {
        // the directory gives the choices: a picker may start with none of its own
        if (!Array.isArray(node.choices) || node.choices.length === 0) {
          copy.choices = [{ title: "(directory)", value: "directory" }];
        }
        continue;
      }
      findings.push({ phase: "teams", event: "UnsupportedProperty", message: "choices.data" });
    }
    if (key === "choices" && Array.isArray(copy.choices) && Array.isArray(value) && value.length === 0) {
      continue; // keep the placeholder put in for a people picker
    }
    copy[key] = withoutPeoplePickers(value, findings);
  }
  return copy;
}

function check(raw) {
  const findings = [];
  const json = withoutPeoplePickers(raw, findings);
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
