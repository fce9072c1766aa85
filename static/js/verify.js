// Verify a ledger proof bundle in the browser: the entry against its public leaf (log format v2:
// a salted commitment, docs/ledger.md "Leaves"; v1 bundles, whose leaf is the entry, still verify),
// the leaf's RFC 9162 inclusion proof, the log's Ed25519 signature on the C2SP checkpoint, and
// witness tlog-cosignature/v1 lines. Uses only WebCrypto (SHA-256, Ed25519); nothing is sent anywhere.
(function () {
  "use strict";
  var encoder = new TextEncoder();

  function b64decode(text) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  function concat() {
    var total = 0, offset = 0, i;
    for (i = 0; i < arguments.length; i++) { total += arguments[i].length; }
    var out = new Uint8Array(total);
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], offset); offset += arguments[i].length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  // CODE names the failed check, so the page can say it in the reader's language.
  function fail(reason, code) {
    var error = new Error(reason);
    error.verification = true;
    error.code = code || "format";
    throw error;
  }

  // The public leaf of an entry, as ledger/tools/tlog.py leaf_bytes computes it.
  var COMMITMENT_DOMAIN = encoder.encode("onecard ledger entry commitment v2\u0000");

  async function leafBytes(entryBytes, salt) {
    if (salt.length === 32) {
      return concat(new Uint8Array([1]), await sha256(concat(COMMITMENT_DOMAIN, salt, entryBytes)));
    }
    if (salt.length === 0) { return concat(new Uint8Array([2]), entryBytes); }
    fail("a salt is 32 bytes", "format");
  }

  async function bundleLeaf(bundle, entryBytes) {
    if (bundle.format === "onecard-proof-bundle/v1") { return entryBytes; }
    if (bundle.format !== "onecard-proof-bundle/v2") { fail("unknown bundle format", "format"); }
    var leaf = await leafBytes(entryBytes, b64decode(bundle.salt || ""));
    if (bundle.leaf !== undefined && !equal(b64decode(bundle.leaf), leaf)) {
      fail("the entry and its salt do not open the leaf", "commitment");
    }
    return leaf;
  }

  // RFC 9162 section 2.1.3.2.
  async function rootFromInclusion(index, treeSize, leafHash, path) {
    if (index >= treeSize) { fail("index outside the tree", "inclusion"); }
    var fn = index, sn = treeSize - 1, r = leafHash;
    for (var i = 0; i < path.length; i++) {
      var p = path[i];
      if (sn === 0) { fail("inclusion proof too long", "inclusion"); }
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(new Uint8Array([1]), p, r));
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(concat(new Uint8Array([1]), r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) { fail("inclusion proof too short", "inclusion"); }
    return r;
  }

  async function keyId(name, algorithm, publicKey) {
    var digest = await sha256(concat(encoder.encode(name + "\n"), new Uint8Array([algorithm]), publicKey));
    return digest.slice(0, 4);
  }

  async function parseVerifierKey(text, algorithm) {
    // The base64 key may itself contain "+": split on the first two only.
    var trimmed = text.trim(), first = trimmed.indexOf("+"), second = trimmed.indexOf("+", first + 1);
    if (first <= 0 || second < 0) { fail("malformed verifier key", "key"); }
    var parts = [trimmed.slice(0, first), trimmed.slice(first + 1, second), trimmed.slice(second + 1)];
    var raw = b64decode(parts[2]);
    if (raw.length !== 33 || raw[0] !== algorithm) { fail("verifier key is not an Ed25519 key of the expected kind", "key"); }
    var publicKey = raw.slice(1);
    var id = await keyId(parts[0], algorithm, publicKey);
    var hex = Array.prototype.map.call(id, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    if (hex !== parts[1]) { fail("verifier key ID does not match", "key"); }
    return { name: parts[0], id: id, key: await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]) };
  }

  function splitNote(note) {
    var at = note.indexOf("\n\n");
    if (at < 0) { fail("checkpoint is not a signed note"); }
    var body = note.slice(0, at + 1);
    var lines = note.slice(at + 2).replace(/\n+$/, "").split("\n").map(function (line) {
      if (line.indexOf("\u2014 ") !== 0) { fail("malformed signature line"); }
      var rest = line.slice(2), space = rest.lastIndexOf(" ");
      return { name: rest.slice(0, space), raw: b64decode(rest.slice(space + 1)) };
    });
    return { body: body, lines: lines };
  }

  async function signedBy(note, verifier) {
    for (var i = 0; i < note.lines.length; i++) {
      var line = note.lines[i];
      if (line.name === verifier.name && equal(line.raw.slice(0, 4), verifier.id)) {
        return crypto.subtle.verify({ name: "Ed25519" }, verifier.key, line.raw.slice(4), encoder.encode(note.body));
      }
    }
    return false;
  }

  async function cosignedBy(note, witness) {
    for (var i = 0; i < note.lines.length; i++) {
      var line = note.lines[i];
      if (line.name === witness.name && line.raw.length === 76 && equal(line.raw.slice(0, 4), witness.id)) {
        var view = new DataView(line.raw.buffer, line.raw.byteOffset + 4, 8);
        var timestamp = view.getBigUint64(0).toString();
        var message = encoder.encode("cosignature/v1\ntime " + timestamp + "\n" + note.body);
        return crypto.subtle.verify({ name: "Ed25519" }, witness.key, line.raw.slice(12), message);
      }
    }
    return false;
  }

  // Check the bundle step by step and return what held:
  //   {ok: true, state: "witnessed", witnesses: n, witnessNames: [...], treeSize, logKeyChecked}
  //   {ok: true, state: "unwitnessed", witnesses: 0, ...}: proof and log signature hold, no witness cosigned yet
  //   {ok: false, state: "failed", code, reason}: CODE is the check that failed
  // TRUSTED_LOG_KEY, when given (the key served at /ledger/key), must equal the bundle's.
  async function verifyBundle(bundle, trustedLogKey) {
    try {
      if (trustedLogKey && trustedLogKey.trim() !== bundle.verifier_key.trim()) {
        fail("the bundle names another log key than the one the log publishes", "log-key");
      }
      var entryBytes = b64decode(bundle.entry_bytes);
      var entry = JSON.parse(new TextDecoder().decode(entryBytes));
      if (entry.index !== bundle.index) { fail("entry index differs from the bundle's", "inclusion"); }
      var leaf = await sha256(concat(new Uint8Array([0]), await bundleLeaf(bundle, entryBytes)));
      var root = await rootFromInclusion(bundle.index, bundle.tree_size, leaf, bundle.path.map(b64decode));
      var note = splitNote(bundle.checkpoint);
      var body = note.body.split("\n");
      if (parseInt(body[1], 10) !== bundle.tree_size) { fail("checkpoint is for another tree size", "inclusion"); }
      if (!equal(b64decode(body[2]), root)) { fail("inclusion proof does not lead to the checkpoint's root", "inclusion"); }
      var log = await parseVerifierKey(bundle.verifier_key, 1);
      if (!(await signedBy(note, log))) { fail("checkpoint signature does not verify", "signature"); }
      var names = [];
      for (var i = 0; i < (bundle.witness_keys || []).length; i++) {
        var witness = await parseVerifierKey(bundle.witness_keys[i], 4);
        if (await cosignedBy(note, witness)) { names.push(witness.name); }
      }
      return {
        ok: true,
        state: names.length ? "witnessed" : "unwitnessed",
        witnesses: names.length,
        witnessNames: names,
        treeSize: bundle.tree_size,
        logKeyChecked: Boolean(trustedLogKey),
      };
    } catch (error) {
      if (error.verification) { return { ok: false, state: "failed", code: error.code, reason: error.message }; }
      return { ok: false, state: "failed", code: "format", reason: "malformed bundle (" + error.message + ")" };
    }
  }

  // C2SP tlog-tiles: read the published checkpoint and the hash tiles from BASE (this site's /log,
  // or a mirror), and prove the entry's leaf from them instead of from the server's proof.
  var TILE_WIDTH = 256;

  function tilePath(level, index, width) {
    var digits = String(index);
    while (digits.length % 3) { digits = "0" + digits; }
    var groups = [];
    for (var i = 0; i < digits.length; i += 3) { groups.push(digits.slice(i, i + 3)); }
    var encoded = groups.map(function (group, n) { return n < groups.length - 1 ? "x" + group : group; }).join("/");
    return "tile/" + level + "/" + encoded + (width === TILE_WIDTH ? "" : ".p/" + width);
  }

  function TileReader(base, size) {
    this.base = base.replace(/\/+$/, "");
    this.size = size;
    this.cache = {};
  }

  TileReader.prototype.hashes = async function (level, index) {
    var key = level + "/" + index;
    if (this.cache[key]) { return this.cache[key]; }
    var count = Math.floor(this.size / Math.pow(TILE_WIDTH, level));
    var width = Math.min(TILE_WIDTH, count - index * TILE_WIDTH);
    if (width <= 0) { fail("no such tile in the published tree", "tiles"); }
    var response = await fetch(this.base + "/" + tilePath(level, index, width));
    if (!response.ok && width < TILE_WIDTH) {
      // tlog-tiles lets a log drop a partial tile once the full one exists: read its start.
      response = await fetch(this.base + "/" + tilePath(level, index, TILE_WIDTH));
    }
    if (!response.ok) { fail("tile " + tilePath(level, index, width) + ": HTTP " + response.status, "tiles"); }
    var bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length < width * 32) { fail("tile " + tilePath(level, index, width) + " is short", "tiles"); }
    var hashes = [];
    for (var i = 0; i < width; i++) { hashes.push(bytes.slice(i * 32, i * 32 + 32)); }
    this.cache[key] = hashes;
    return hashes;
  };

  function trailingZeros(n) {
    var count = 0;
    while (n > 0 && n % 2 === 0) { n = n / 2; count++; }
    return count;
  }

  function floorLog2(n) {
    var level = 0;
    while (Math.pow(2, level + 1) <= n) { level++; }
    return level;
  }

  // The complete subtrees, left to right, that make up leaves [start, end) (ledger/merkle.py range_subtrees).
  function rangeSubtrees(start, end) {
    var subtrees = [];
    while (start < end) {
      var level = floorLog2(end - start);
      if (start) { level = Math.min(level, trailingZeros(start)); }
      subtrees.push([level, start / Math.pow(2, level)]);
      start += Math.pow(2, level);
    }
    return subtrees;
  }

  // A complete subtree of height H at POSITION: 2^(H mod 8) hashes of tile level floor(H / 8), hashed pairwise.
  async function subtreeHash(reader, height, position) {
    var level = Math.floor(height / 8), span = Math.pow(2, height - 8 * level), first = position * span;
    var tile = await reader.hashes(level, Math.floor(first / TILE_WIDTH));
    var hashes = tile.slice(first % TILE_WIDTH, first % TILE_WIDTH + span);
    if (hashes.length !== span) { fail("a tile does not cover the subtree it must", "tiles"); }
    while (hashes.length > 1) {
      var next = [];
      for (var i = 0; i < hashes.length; i += 2) { next.push(await sha256(concat(new Uint8Array([1]), hashes[i], hashes[i + 1]))); }
      hashes = next;
    }
    return hashes[0];
  }

  async function rangeHash(reader, start, end) {
    var subtrees = rangeSubtrees(start, end), hashes = [];
    for (var i = 0; i < subtrees.length; i++) { hashes.push(await subtreeHash(reader, subtrees[i][0], subtrees[i][1])); }
    var result = hashes[hashes.length - 1];
    for (var j = hashes.length - 2; j >= 0; j--) { result = await sha256(concat(new Uint8Array([1]), hashes[j], result)); }
    return result;
  }

  // RFC 9162 section 2.1.3.1: the ranges whose hashes are PATH(index, D[size]), leaf side first.
  async function inclusionFromTiles(reader, index, size) {
    var ranges = [], start = 0, end = size;
    while (end - start > 1) {
      var k = Math.pow(2, floorLog2(end - start - 1));
      if (index < start + k) { ranges.push([start + k, end]); end = start + k; }
      else { ranges.push([start, start + k]); start += k; }
    }
    ranges.reverse();
    var path = [];
    for (var i = 0; i < ranges.length; i++) { path.push(await rangeHash(reader, ranges[i][0], ranges[i][1])); }
    return path;
  }

  // Check the entry of BUNDLE against the log as published at LOG_BASE (this site's /log or a mirror):
  // the entry opens its leaf, the leaf is in the tree of the checkpoint LOG_BASE serves (proved from
  // its tiles, not from the server's proof), the log's key (TRUSTED_LOG_KEY, from /ledger/key) signed
  // that checkpoint, and the witnesses cosigned it. An entry newer than that checkpoint is checked
  // against the bundle's own checkpoint, and the result says it is not yet published.
  async function verifyEntry(bundle, trustedLogKey, logBase) {
    try {
      if (!trustedLogKey) { fail("the log key is needed to check a published checkpoint", "log-key"); }
      var entryBytes = b64decode(bundle.entry_bytes);
      var entry = JSON.parse(new TextDecoder().decode(entryBytes));
      if (entry.index !== bundle.index) { fail("entry index differs from the bundle's", "inclusion"); }
      var leaf = await sha256(concat(new Uint8Array([0]), await bundleLeaf(bundle, entryBytes)));
      var response = await fetch(logBase.replace(/\/+$/, "") + "/checkpoint", { cache: "no-store" });
      if (!response.ok) { fail("checkpoint: HTTP " + response.status, "tiles"); }
      var text = await response.text();
      var note = splitNote(text);
      var body = note.body.split("\n");
      var size = parseInt(body[1], 10);
      var log = await parseVerifierKey(trustedLogKey, 1);
      if (body[0] !== log.name) { fail("the checkpoint is another log's", "signature"); }
      if (!(await signedBy(note, log))) { fail("checkpoint signature does not verify", "signature"); }
      if (!(bundle.index < size)) {
        var own = await verifyBundle(bundle, trustedLogKey);
        if (own.ok) { own.state = "unpublished"; own.source = logBase; }
        return own;
      }
      var path = await inclusionFromTiles(new TileReader(logBase, size), bundle.index, size);
      var root = await rootFromInclusion(bundle.index, size, leaf, path);
      if (!equal(b64decode(body[2]), root)) { fail("the published tree does not hold this entry", "inclusion"); }
      var names = [];
      for (var i = 0; i < (bundle.witness_keys || []).length; i++) {
        var witness = await parseVerifierKey(bundle.witness_keys[i], 4);
        if (await cosignedBy(note, witness)) { names.push(witness.name); }
      }
      return {
        ok: true,
        state: names.length ? "witnessed" : "unwitnessed",
        witnesses: names.length,
        witnessNames: names,
        treeSize: size,
        logKeyChecked: true,
        source: logBase,
      };
    } catch (error) {
      if (error.verification) { return { ok: false, state: "failed", code: error.code, reason: error.message }; }
      return { ok: false, state: "failed", code: "format", reason: "malformed entry or log (" + error.message + ")" };
    }
  }

  window.OneCardVerify = { verifyBundle: verifyBundle, verifyEntry: verifyEntry };

  // Texts come from the page (data-* on #verify-messages), translated there; {n} and {names} are filled in.
  function text(messages, name, values) {
    var value = messages.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { value = value.split("{" + key + "}").join(values[key]); });
    return value;
  }

  function line(list, passed, content) {
    var item = document.createElement("li");
    item.className = passed === true ? "check-ok" : passed === false ? "check-fail" : "check-pending";
    var mark = document.createElement("span");
    mark.setAttribute("aria-hidden", "true");
    mark.textContent = passed === true ? "\u2714 " : passed === false ? "\u2716 " : "\u25cb ";
    item.appendChild(mark);
    item.appendChild(document.createTextNode(content));
    list.appendChild(item);
  }

  function show(result, messages, outcome) {
    result.textContent = "";
    var summary = document.createElement("strong");
    var details = document.createElement("ul");
    details.className = "verify-checks";
    if (outcome.ok) {
      line(details, true, text(messages, "inclusion-ok", { n: outcome.treeSize }));
      if (outcome.state === "unpublished") {
        line(details, null, text(messages, "unpublished"));
      } else if (outcome.source) {
        line(details, true, text(messages, "source", { url: outcome.source }));
      }
      line(details, true, text(messages, outcome.logKeyChecked ? "signature-ok" : "signature-ok-unpinned"));
      if (outcome.state === "witnessed") {
        line(details, true, text(messages, "witnesses-ok", { n: outcome.witnesses, names: outcome.witnessNames.join(", ") }));
        summary.textContent = text(messages, "ok");
        result.className = "verify-result ok";
      } else {
        line(details, null, text(messages, "witnesses-none"));
        summary.textContent = text(messages, "unwitnessed");
        result.className = "verify-result unwitnessed";
      }
    } else {
      summary.textContent = text(messages, "fail") + " " + (text(messages, "reason-" + outcome.code) || outcome.reason);
      line(details, false, outcome.reason);
      result.className = "verify-result fail";
    }
    result.appendChild(summary);
    result.appendChild(details);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var messages = document.getElementById("verify-messages");
    var live = document.getElementById("verify-live");
    if (!messages) { return; }
    var keyUrl = messages.getAttribute("data-log-key-url");
    Array.prototype.forEach.call(document.querySelectorAll("button.verify"), function (button) {
      button.addEventListener("click", async function () {
        var result = document.getElementById(button.getAttribute("data-result"));
        result.className = "verify-result";
        result.textContent = text(messages, "busy");
        var outcome;
        try {
          var response = await fetch(button.getAttribute("data-proof-url"), { credentials: "same-origin" });
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          var bundle = await response.json();
          var trusted = null;
          if (keyUrl) {
            var keyResponse = await fetch(keyUrl);
            if (!keyResponse.ok) { throw new Error("HTTP " + keyResponse.status); }
            trusted = await keyResponse.text();
          }
          var source = document.getElementById("verify-source");
          var logBase = source ? source.value : messages.getAttribute("data-log-url");
          outcome = logBase ? await verifyEntry(bundle, trusted, logBase) : await verifyBundle(bundle, trusted);
        } catch (error) {
          outcome = { ok: false, state: "failed", code: "fetch", reason: error.message };
        }
        show(result, messages, outcome);
        live.textContent = result.firstChild.textContent;
      });
    });
  });
})();
