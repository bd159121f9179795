// Loads wechat-crypto from tools/safe-mode-vectors (install it there with `npm ci`), with a
// clear message when it is missing.

'use strict';

const path = require('path');

const MODULES = path.join(__dirname, '..', '..', 'tools', 'safe-mode-vectors', 'node_modules');

process.noDeprecation = true; // wechat-crypto uses `new Buffer`, deprecated since Node 10

function loadWechatCrypto() {
  try {
    return require(path.join(MODULES, 'wechat-crypto'));
  } catch (e) {
    console.error(`error: wechat-crypto not found in ${MODULES}`);
    console.error('hint: cd tools/safe-mode-vectors && npm ci');
    process.exit(2);
  }
}

module.exports = { loadWechatCrypto };
