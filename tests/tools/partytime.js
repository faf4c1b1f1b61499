// Podcast Index's parser on a feed: reads the XML from stdin, prints what it parsed as
// JSON (or "null" where it does not take the feed as a podcast). It only parses: the
// feed is read from stdin, never fetched.
"use strict";
const pt = require("podcast-partytime");

let xml = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { xml += chunk; });
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(pt.parseFeed(xml)) + "\n");
});
