// Reading and writing the committed fixtures in one layout: a small header, then one vector
// per line, so that a regenerated fixture diffs line by line.

'use strict';

const fs = require('fs');
const path = require('path');

const FIXTURES = path.join(__dirname, '..', '..', 'tests', 'fixtures', 'safe_mode');

function fixturePath(name) {
  return path.join(FIXTURES, name);
}

function writeFixture(file, header, vectors) {
  const head = JSON.stringify({ ...header, count: vectors.length }, null, 2)
    .replace(/\n}$/, ',\n  "vectors": [\n');
  const body = vectors.map((v) => '    ' + JSON.stringify(v)).join(',\n');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, head + body + '\n  ]\n}\n');
}

function readFixture(file) {
  const { vectors, ...header } = JSON.parse(fs.readFileSync(file, 'utf8'));
  return { header, vectors };
}

module.exports = { fixturePath, writeFixture, readFixture };
