#!/usr/bin/env node
// Compares two NDJSON files line by line as JSON values (key order kept, numbers compared as
// numbers), since serde_json and JSON.stringify print some numbers differently (320.0 vs 320).
//
// Usage: node compare_ndjson.js a.ndjson b.ndjson   (exit 0 if equal, 1 with the first
// difference otherwise)

'use strict';

const fs = require('fs');
const assert = require('assert');

function lines(file) {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

function main() {
  const [a, b] = process.argv.slice(2);
  if (!a || !b) {
    console.error('usage: node compare_ndjson.js a.ndjson b.ndjson');
    process.exit(2);
  }
  const left = lines(a);
  const right = lines(b);
  if (left.length !== right.length) {
    console.error(`${a} has ${left.length} lines, ${b} has ${right.length}`);
    process.exit(1);
  }
  for (let i = 0; i < left.length; i++) {
    const [x, y] = [JSON.parse(left[i]), JSON.parse(right[i])];
    try {
      assert.deepStrictEqual(x, y);
      assert.deepStrictEqual(Object.keys(x), Object.keys(y));
    } catch (e) {
      console.error(`line ${i + 1} differs:\n  ${left[i]}\n  ${right[i]}`);
      process.exit(1);
    }
  }
  console.error(`${left.length} lines equal`);
}

main();
