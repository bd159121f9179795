#!/usr/bin/env node
// Writes tests/fixtures/safe_mode/wechat_crypto_vectors.json: known-answer vectors for
// sensoro-mqtt's safe-mode codec, encrypted by the independent npm package wechat-crypto
// (the package the platform's own Node demo decrypts pushes with).
//
// AppKeys and messages come from a seeded generator, so they are the same on every run; the
// encryptData differs each run because wechat-crypto draws a random 16-byte prefix.
//
// Usage: cd tools/safe-mode-vectors && npm ci && node generate.js

'use strict';

process.noDeprecation = true; // wechat-crypto uses `new Buffer`, deprecated since Node 10
const crypto = require('crypto');
const path = require('path');
const WXBizMsgCrypt = require('wechat-crypto');
const { fixturePath, writeFixture } = require('./fixture');

const OUT = fixturePath('wechat_crypto_vectors.json');
const APP_IDS = ['foobar', '123456', '9yCs1XmRya2T'];

// --- a seeded byte stream: SHA-256 of (seed, counter) ---

function seededBytes(seed) {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return function take(n) {
    while (pool.length < n) {
      const block = crypto.createHash('sha256').update(`${seed}/${counter++}`).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = pool.subarray(0, n);
    pool = pool.subarray(n);
    return out;
  };
}

const take = seededBytes('sensoro-mqtt safe-mode vectors v1');

function randomInt(below) {
  return take(4).readUInt32BE(0) % below;
}

// --- AppKeys ---

// Base64 of 32 bytes without its '=': the unused low bits of the last character are zero.
function base64AppKey() {
  return take(32).toString('base64').replace(/=$/, '');
}

// 43 random alphanumerics, as WeChat-style platforms generate them: the last character
// usually has unused low bits set, which the decoder must ignore.
function alphanumericAppKey() {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let key = '';
  while (key.length < 43) key += alphabet[randomInt(alphabet.length)];
  return key;
}

const APP_KEYS = [
  'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', // WeChat's documented example key
  base64AppKey(),
  base64AppKey(),
  base64AppKey(),
  alphanumericAppKey(),
  alphanumericAppKey(),
];

// --- messages ---

function printable(len) {
  let s = '';
  while (s.length < len) s += String.fromCharCode(0x20 + randomInt(0x5f));
  return s;
}

// Code points from ASCII, Latin-1, Greek, CJK and emoji ranges; never a lone surrogate.
function randomUnicode(chars) {
  const ranges = [[0x20, 0x7e], [0xa0, 0xff], [0x391, 0x3c9], [0x4e00, 0x9fff],
    [0x1f300, 0x1f64f], [0x20000, 0x2a6df]];
  let s = '';
  for (let i = 0; i < chars; i++) {
    const [lo, hi] = ranges[randomInt(ranges.length)];
    s += String.fromCodePoint(lo + randomInt(hi - lo + 1));
  }
  return s;
}

const PUSH_DATA = [
  { battery: 90, interval: 300, temperature: 21.5, light: 320.0, humidity: 40.2, ch4: 0,
    pm2_5: 12, leak: false, smoke: 0, magnetic: { x: 12, y: -3, z: 40 } },
  { battery: 87, interval: 300, temperature: -12.25, humidity: 98.6 },
  { battery: 100, interval: 60, smoke: 1, alarm: true },
  { battery: 55, interval: 600, leak: true },
  { battery: 71, interval: 120, magnetic: { x: -1024, y: 0, z: 512 } },
  { battery: 64, interval: 300, pm2_5: 187, pm10: 260 },
  { battery: 12, interval: 900, ch4: 0.45, co: 3, lowBattery: true },
  { battery: 93, interval: 300, light: 0.01, temperature: 36.6, extra: null, tags: ['a', 'b'] },
  { battery: 80, interval: 300, location: '北京市朝阳区', note: '烟雾报警 🚨' },
  { battery: 99, interval: 30, readings: [21.1, 21.2, 21.4, 21.3], unit: '°C' },
];

const UNICODE = [
  ['cjk', '温度传感器：当前温度 21.5°C，湿度 40%'],
  ['emoji', '🌡️🔥💧🚨👨‍👩‍👧‍👦'],
  ['latin and symbols', 'Ωµ°C ±0.5 — naïve café, ½ ≤ ¾'],
  ['combining marks', 'e\u0301 a\u0308 n\u0303'],
  ['astral', '𝄞 𠀀 𩸽 🦀'],
  ['right to left', 'مرحبا بالعالم'],
  ['control characters', 'tab\there\nnewline\r\n"quotes" \\backslash\\ \u0000nul'],
  ['cjk json', JSON.stringify({ 位置: '上海', 状态: '正常', 温度: 23.4 })],
];

// About 100 KB of JSON: one device's day of readings.
function largeMessage() {
  const readings = [];
  let json = '';
  for (let i = 0; json.length < 100 * 1024; i++) {
    readings.push({ t: 1732400000000 + i * 30000, temperature: 20 + randomInt(1000) / 100,
      humidity: 30 + randomInt(4000) / 100 });
    if (i % 100 === 99) json = JSON.stringify({ sn: '0117C9A1B2', readings });
  }
  return json;
}

// --- the vector list ---

function cases() {
  const list = [
    ['empty message', ''],
    ['one byte', 'a'],
  ];
  for (const n of [15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 128, 129, 255, 256, 257,
    1023, 1024, 1025]) {
    list.push([`${n} bytes`, printable(n)]);
  }
  // With AppID foobar the header and trailer are 26 bytes: these put the unpadded plaintext
  // one short of, exactly at, and one past a multiple of 32 (a full 32-byte pad block).
  for (const n of [5, 6, 7, 37, 38, 39]) {
    list.push([`${n} bytes, plaintext ${26 + n} with foobar`, printable(n), 'foobar']);
  }
  PUSH_DATA.forEach((data, i) => list.push([`push data ${i + 1}`, JSON.stringify(data)]));
  UNICODE.forEach(([name, text]) => list.push([`unicode: ${name}`, text]));
  for (const chars of [1, 7, 40, 200]) {
    list.push([`random unicode, ${chars} characters`, randomUnicode(chars)]);
  }
  list.push(['empty message, 12-byte AppID (plaintext exactly 32)', '', '9yCs1XmRya2T']);
  list.push(['JSON with CJK AppID', JSON.stringify(PUSH_DATA[0]), '应用-测试']);
  list.push(['long AppID', '{}', 'wx' + 'abcdef0123456789'.repeat(4)]);
  list.push(['one-character AppID', '{"ok":true}', 'a']);
  list.push(['about 100 KB of JSON', largeMessage()]);
  return list;
}

function makeVector([name, message, appId], i) {
  const appKey = APP_KEYS[i % APP_KEYS.length];
  appId = appId || APP_IDS[Math.floor(i / APP_KEYS.length) % APP_IDS.length];
  const encryptData = new WXBizMsgCrypt('unused-token', appKey, appId).encrypt(message);
  checkWithFreshInstance({ name, appKey, appId, message, encryptData });
  return { name, appKey, appId, message, encryptData };
}

// Decrypts with a separate instance, so a vector that wechat-crypto cannot read back is never
// recorded.
function checkWithFreshInstance(v) {
  const back = new WXBizMsgCrypt('unused-token', v.appKey, v.appId).decrypt(v.encryptData);
  if (back.message !== v.message || back.id !== v.appId) {
    throw new Error(`vector "${v.name}" does not round-trip in wechat-crypto`);
  }
}

function main() {
  const vectors = cases().map(makeVector);
  writeFixture(OUT, {
    source: 'npm wechat-crypto ' + require('wechat-crypto/package.json').version +
      ' (WXBizMsgCrypt.encrypt), by tools/safe-mode-vectors/generate.js',
    node: process.version,
  }, vectors);
  console.error(`wrote ${vectors.length} vectors to ${path.relative(process.cwd(), OUT)}`);
}

main();
