// How the hovercard writes points and weights: as the dashboard does (server/dashboard.py's
// `points` filter), so a hostile reply's weight of 0.04 is not shown as "weight 0" on the card
// while the dashboard says 0.04.
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { points, times } = require("../../extension/badge.js");

const ROOT = path.resolve(__dirname, "..", "..");

test("small weights keep their digits: 0.04 is not 0", () => {
  assert.equal(points(0.04), "0.04");
  assert.equal(points(0.0432), "0.04");
  assert.equal(points(0.096), "0.1");
  assert.equal(points(-0.04), "-0.04");
  // what would round to nothing and is not nothing keeps two significant digits
  assert.equal(points(0.0043), "0.0043");
  assert.equal(points(0.000012345), "0.000012");
  assert.equal(points(-0.001), "-0.001");
});

test("larger values: two decimals below 10, one from 10, no trailing zeros", () => {
  assert.equal(points(3.7), "3.7");
  assert.equal(points(3.756), "3.76");
  assert.equal(points(9.2), "9.2");
  assert.equal(points(12.34), "12.3");
  assert.equal(points(12), "12");
  assert.equal(points(1), "1");
  assert.equal(points(0), "0");
  assert.equal(points(-0), "0");
  assert.equal(points(undefined), "0");
  assert.equal(points("x"), "0");
});

test("the card's figures are the dashboard's", () => {
  const values = [0.04, 0.0432, 0.0449, 0.051, 0.09999, 0.1, 0.25, 1, 1.005, 3.7, 3.749, 9.994, 9.996, 10, 10.04,
    12.34, 57.329, 99.95, -0.04, -1.234, -12.36];
  const out = execFileSync(process.env.PYTHON || "python3",
    ["-c", "import json, sys; from server.dashboard import points; print(json.dumps([points(v) for v in json.load(sys.stdin)]))"],
    { cwd: ROOT, input: JSON.stringify(values), encoding: "utf8" });
  const dashboard = JSON.parse(out);
  values.forEach((v, i) => {
    const want = dashboard[i].includes(".") ? dashboard[i].replace(/\.?0+$/, "") : dashboard[i];
    assert.equal(points(v), want === "-0" ? "0" : want, `${v}: the dashboard writes ${dashboard[i]}`);
  });
});

test("a reply's weight is written as the dashboard writes it", () => {
  const values = [1, 1.04, 1.05, 1.25, 1.2157, 2.96, 7.6029, 9.94, 9.95, 9.96, 10, 12.5, 63.94, 121.6];
  const out = execFileSync(process.env.PYTHON || "python3",
    ["-c", "import json, sys; from server.dashboard import times; print(json.dumps([times(v) for v in json.load(sys.stdin)]))"],
    { cwd: ROOT, input: JSON.stringify(values), encoding: "utf8" });
  const dashboard = JSON.parse(out);
  values.forEach((v, i) => assert.equal(times(v), dashboard[i], `${v}`));
  assert.equal(times(7.6029), "\u00d77.6");
  assert.equal(times(1), "\u00d71");
  assert.equal(times(undefined), "");
});
