#!/usr/bin/env node
// Decrypts sensoro-mqtt's own encryptData (tests/fixtures/safe_mode/ours_for_wechat_crypto.json,
// written by `cargo run --example ours_for_wechat_crypto`) with the independent npm package
// wechat-crypto, and records what it got in each vector as `nodeDecrypted` and `nodeAppId`.
// wechat-crypto forgives a bad pad, so the padding is also checked here with Node's own AES:
// `nodePadLength` is the pad length when the plaintext is a multiple of 32 bytes ending in that
// many bytes of that value, else null.
// The cargo test tests/crypto_vectors.rs then checks them against `message` and `appId`.
//
// Usage: cd tools/safe-mode-vectors && npm ci && node verify_ours.js

'use strict';

process.noDeprecation = true; // wechat-crypto uses `new Buffer`, deprecated since Node 10
const crypto = require('crypto');
const path = require('path');
const WXBizMsgCrypt = require('wechat-crypto');
const { fixturePath, readFixture, writeFixture } = require('./fixture');

const FILE = fixturePath('ours_for_wechat_crypto.json');

function padLength(appKey, encryptData) {
  const key = Buffer.from(appKey + '=', 'base64');
  const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(encryptData, 'base64'), decipher.final()]);
  const n = plain[plain.length - 1];
  const ok = plain.length % 32 === 0 && n >= 1 && n <= 32 &&
    plain.subarray(plain.length - n).every((b) => b === n);
  return ok ? n : null;
}

function verify(vector) {
  const { nodeDecrypted, nodeAppId, nodePadLength, ...ours } = vector;
  const back = new WXBizMsgCrypt('unused-token', ours.appKey, ours.appId)
    .decrypt(ours.encryptData);
  return { ...ours, nodeDecrypted: back.message, nodeAppId: back.id,
    nodePadLength: padLength(ours.appKey, ours.encryptData) };
}

function main() {
  const { header, vectors } = readFixture(FILE);
  const verified = vectors.map(verify);
  const wrong = verified.filter((v) => v.nodeDecrypted !== v.message || v.nodeAppId !== v.appId ||
    v.nodePadLength === null);
  writeFixture(FILE, {
    ...header,
    verifiedBy: 'npm wechat-crypto ' + require('wechat-crypto/package.json').version +
      ' (WXBizMsgCrypt.decrypt), by tools/safe-mode-vectors/verify_ours.js',
    node: process.version,
  }, verified);
  console.error(`decrypted ${verified.length} vectors in ${path.relative(process.cwd(), FILE)}; ` +
    `${wrong.length} differ from their message or AppID or are badly padded`);
  wrong.forEach((v) => console.error(`  differs: ${v.name}`));
  process.exitCode = wrong.length === 0 ? 0 : 1;
}

main();
