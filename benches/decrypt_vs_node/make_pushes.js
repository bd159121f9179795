#!/usr/bin/env node
// Prints N safe-mode pushes as NDJSON, each
// {"appId","sn","deviceType","type":"text","createdTime","msgId","encryptData"}, with `data`
// encrypted by wechat-crypto for the given AppID and AppKey.
//
// Usage: node make_pushes.js N [APP_ID] [APP_KEY] [EXPECTED] > pushes.ndjson
// Defaults: AppID 9yCs1XmRya2T, AppKey abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG.
// The readings are seeded (the same on every run); the encryptData is not (random prefix).
// Every push carries `lonlat` written with 17 significant digits, as the platform sends it
// (text that JavaScript's own number printing would shorten); with EXPECTED, the decrypted
// pushes a byte-exact decoder must print (the plaintext spliced in as `data`) go there.

'use strict';

const { loadWechatCrypto } = require('./wechat_crypto');

const DEFAULT_APP_ID = '9yCs1XmRya2T';
const DEFAULT_APP_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const START_MS = 1732400000000;

// mulberry32: a small seeded generator, enough for varied readings.
function seeded(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seeded(20241124);
const pick = (list) => list[Math.floor(random() * list.length)];
const round = (x, digits) => Number(x.toFixed(digits));

// One kind of reading per device type, plus housekeeping, as PLATFORM.md describes.
const DEVICES = [
  ['temp_humi', () => ({ temperature: round(15 + random() * 15, 1), humidity: round(30 + random() * 50, 1) })],
  ['smoke', () => ({ smoke: random() < 0.02 ? 1 : 0 })],
  ['leak', () => ({ leak: random() < 0.02 })],
  ['magnetic', () => ({ magnetic: { x: Math.round(random() * 200 - 100), y: Math.round(random() * 200 - 100), z: Math.round(random() * 200 - 100) } })],
  ['pm', () => ({ pm2_5: Math.round(random() * 150), pm10: Math.round(random() * 200) })],
  ['light', () => ({ light: round(random() * 1000, 2) })],
  ['ch4', () => ({ ch4: round(random() * 2, 2) })],
];

function hex(digits) {
  let s = '';
  while (s.length < digits) s += Math.floor(random() * 16).toString(16);
  return s;
}

// A coordinate as text with 17 significant digits (3 before the point, 14 after).
function coordinate(whole) {
  let digits = '';
  while (digits.length < 14) digits += Math.floor(random() * 10);
  return `${whole}.${digits}`;
}

// Returns [the safe-mode push, the decrypted push as a byte-exact decoder prints it].
function push(i, appId, cipher) {
  const [deviceType, reading] = pick(DEVICES);
  const data = { battery: Math.round(20 + random() * 80), interval: pick([60, 300, 600]), ...reading() };
  const lonlat = `[${coordinate(116)},${coordinate(39)}]`;
  const plaintext = JSON.stringify(data).slice(0, -1) + `,"lonlat":${lonlat}}`;
  const envelope = {
    appId,
    sn: '0117C9' + hex(4).toUpperCase(),
    deviceType,
    type: 'text',
    createdTime: START_MS + i * 1000,
    msgId: hex(24),
  };
  const sealed = JSON.stringify({ ...envelope, encryptData: cipher.encrypt(plaintext) });
  const opened = JSON.stringify(envelope).slice(0, -1) + `,"data":${plaintext}}`;
  return [sealed, opened];
}

function main() {
  const [count, appId = DEFAULT_APP_ID, appKey = DEFAULT_APP_KEY, expected] = process.argv.slice(2);
  const n = Number(count);
  if (!Number.isInteger(n) || n < 0) {
    console.error('usage: node make_pushes.js N [APP_ID] [APP_KEY] > pushes.ndjson');
    process.exit(2);
  }
  const WXBizMsgCrypt = loadWechatCrypto();
  const cipher = new WXBizMsgCrypt('unused-token', appKey, appId);
  const fs = require('fs');
  const opened = expected ? fs.openSync(expected, 'w') : null;
  let chunk = [];
  let plain = [];
  const flush = () => {
    process.stdout.write(chunk.join('\n') + '\n');
    if (opened !== null) fs.writeSync(opened, plain.join('\n') + '\n');
    chunk = [];
    plain = [];
  };
  for (let i = 0; i < n; i++) {
    const [sealed, open] = push(i, appId, cipher);
    chunk.push(sealed);
    plain.push(open);
    if (chunk.length === 1000) flush();
  }
  if (chunk.length > 0) flush();
  if (opened !== null) fs.closeSync(opened);
}

main();
