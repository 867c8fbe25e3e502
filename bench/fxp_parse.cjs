// Bare fast-xml-parser parse of one feed file, timed inside Node (start-up and file read excluded).
// Usage: node fxp_parse.cjs MODULE_DIR FILE RUNS WARMUPS  ->  one JSON line on stdout.
"use strict";
const fs = require("fs");
const path = require("path");

const [moduleDir, file, runsArg, warmupsArg] = process.argv.slice(2);
const { XMLParser } = require(path.join(moduleDir, "node_modules", "fast-xml-parser"));
const version = require(path.join(moduleDir, "node_modules", "fast-xml-parser", "package.json"))
  .version;

const body = fs.readFileSync(file); // a Buffer, as an HTTP client would hand it over
// Attributes kept (jobimport keeps them too); CDATA merged into text; entities processed (default).
const options = { ignoreAttributes: false };

function parseOnce() {
  const parser = new XMLParser(options);
  const started = process.hrtime.bigint();
  const doc = parser.parse(body);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const items = doc.rss.channel.item;
  return { seconds, items: Array.isArray(items) ? items.length : items ? 1 : 0 };
}

for (let i = 0; i < Number(warmupsArg); i++) parseOnce(); // let V8 optimize the parser first
const seconds = [];
let items = 0;
for (let i = 0; i < Number(runsArg); i++) {
  const run = parseOnce();
  seconds.push(run.seconds);
  items = run.items;
}
process.stdout.write(JSON.stringify({ version, items, seconds }) + "\n");
