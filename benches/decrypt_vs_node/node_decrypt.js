#!/usr/bin/env node
// The Node.js equivalent of `sensoro-mqtt decrypt -`, for a fair comparison: reads NDJSON
// pushes from stdin, decrypts each `encryptData` with wechat-crypto (key set up once), checks
// the AppID trailer, replaces `encryptData` by the parsed `data` in the same position, and
// prints NDJSON. A line that fails is reported on stderr with its number; the others go on;
// the exit code is 5 if any failed. Output is batched (about 64 KB per write), as ours is.
//
// Usage: node node_decrypt.js APP_ID APP_KEY < pushes.ndjson > decrypted.ndjson
//   (or set SENSORO_APP_ID and SENSORO_APP_KEY)

'use strict';

const { loadWechatCrypto } = require('./wechat_crypto');

const FLUSH_AT = 64 * 1024;

function decryptLine(line, cipher, appId) {
  const push = JSON.parse(line);
  if (typeof push.encryptData !== 'string') return line;
  const { message, id } = cipher.decrypt(push.encryptData);
  if (id !== appId) throw new Error(`AppID mismatch: expected "${appId}", found "${id}"`);
  const out = {};
  for (const [key, value] of Object.entries(push)) {
    if (key === 'encryptData') out.data = JSON.parse(message);
    else out[key] = value;
  }
  return JSON.stringify(out);
}

function main() {
  const appId = process.argv[2] || process.env.SENSORO_APP_ID;
  const appKey = process.argv[3] || process.env.SENSORO_APP_KEY;
  if (!appId || !appKey) {
    console.error('usage: node node_decrypt.js APP_ID APP_KEY < pushes.ndjson');
    process.exit(2);
  }
  const WXBizMsgCrypt = loadWechatCrypto();
  const cipher = new WXBizMsgCrypt('unused-token', appKey, appId);
  let pending = '';
  let out = '';
  let lineNo = 0;
  let failed = 0;

  function handle(line) {
    lineNo++;
    if (line.trim() === '') return;
    try {
      out += decryptLine(line, cipher, appId) + '\n';
    } catch (e) {
      failed++;
      console.error(`line ${lineNo}: ${e.message}`);
    }
    if (out.length >= FLUSH_AT) {
      process.stdout.write(out);
      out = '';
    }
  }

  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (text) => {
    const lines = (pending + text).split('\n');
    pending = lines.pop();
    lines.forEach(handle);
  });
  process.stdin.on('end', () => {
    if (pending !== '') handle(pending);
    process.stdout.write(out);
    process.exitCode = failed > 0 ? 5 : 0;
  });
}

main();
