// Check a completeness bundle in the browser (format: docs/ledger.md, "The completeness bundle"):
// the log's signature and the witnesses' cosignatures on the checkpoint, the index proof of each of the
// resident's tags against the checkpoint's "index" line, each entry's inclusion proof, and the chain
// of entries from the first to the last without a gap. The same checks as ledger/tools/vindex.py.
// Uses only WebCrypto (SHA-256, Ed25519); nothing is sent anywhere.
(function () {
  "use strict";
  var encoder = new TextEncoder();
  var EMPTY = new Uint8Array(32);
  // Sealed entries (docs/ledger.md, "Sealed accesses"): SHA-256("onecard-sealed/v1" || 0x00 || salt || contents).
  var SEALED_DOMAIN = concatPrefix("onecard-sealed/v1");

  function concatPrefix(text) {
    var bytes = new TextEncoder().encode(text);
    var out = new Uint8Array(bytes.length + 1);
    out.set(bytes, 0);
    return out;
  }

  function b64decode(text) {
    if (typeof text !== "string") { fail("malformed: a base64 value is missing"); }
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

  function uint64(n) {
    var out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n));
    return out;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function fail(reason) {
    var error = new Error(reason);
    error.verification = true;
    throw error;
  }

  // The bytes the log's leaf hashes for an entry item: today the entry bytes themselves.
  // The public leaf (docs/ledger.md, "Leaves"), as ledger/tools/tlog.py leaf_bytes computes it:
  // format v2 items carry the salt of the entry's commitment; format v1 leaves are the entry itself.
  var COMMITMENT_DOMAIN = concatPrefix("onecard ledger entry commitment v2");

  async function leafBytes(item, entryBytes) {
    if (typeof item.salt !== "string") { return entryBytes; }
    var salt = b64decode(item.salt);
    if (salt.length === 32) { return concat(new Uint8Array([1]), await sha256(concat(COMMITMENT_DOMAIN, salt, entryBytes))); }
    if (salt.length === 0) { return concat(new Uint8Array([2]), entryBytes); }
    fail("malformed: a salt is 32 bytes");
  }

  // RFC 9162 section 2.1.3.2.
  async function rootFromInclusion(index, treeSize, leafHash, path) {
    if (index >= treeSize) { fail("bad inclusion proof: entry " + index + " lies outside the tree"); }
    var fn = index, sn = treeSize - 1, r = leafHash;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) { fail("bad inclusion proof: too long for entry " + index); }
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(new Uint8Array([1]), path[i], r));
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(concat(new Uint8Array([1]), r, path[i]));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) { fail("bad inclusion proof: too short for entry " + index); }
    return r;
  }

  async function parseVerifierKey(text, algorithm) {
    var trimmed = text.trim(), first = trimmed.indexOf("+"), second = trimmed.indexOf("+", first + 1);
    if (first <= 0 || second < 0) { fail("malformed verifier key"); }
    var name = trimmed.slice(0, first), raw = b64decode(trimmed.slice(second + 1));
    if (raw.length !== 33 || raw[0] !== algorithm) { fail("a verifier key is not an Ed25519 key of the expected kind"); }
    var publicKey = raw.slice(1);
    var id = (await sha256(concat(encoder.encode(name + "\n"), new Uint8Array([algorithm]), publicKey))).slice(0, 4);
    var hex = Array.prototype.map.call(id, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    if (hex !== trimmed.slice(first + 1, second)) { fail("a verifier key's ID does not match"); }
    return { name: name, id: id, key: await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]) };
  }

  function splitNote(note) {
    var at = note.indexOf("\n\n");
    if (at < 0) { fail("bad checkpoint: not a signed note"); }
    var lines = [];
    note.slice(at + 2).replace(/\n+$/, "").split("\n").forEach(function (line) {
      if (line.indexOf("\u2014 ") !== 0) { return; }
      var rest = line.slice(2), space = rest.lastIndexOf(" ");
      try { lines.push({ name: rest.slice(0, space), raw: b64decode(rest.slice(space + 1)) }); } catch (error) { /* unreadable: ignored */ }
    });
    return { body: note.slice(0, at + 1), lines: lines };
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

  // The timestamp of WITNESS's valid cosignature on NOTE, or null.
  async function cosignedAt(note, witness) {
    for (var i = 0; i < note.lines.length; i++) {
      var line = note.lines[i];
      if (line.name === witness.name && line.raw.length === 76 && equal(line.raw.slice(0, 4), witness.id)) {
        var timestamp = new DataView(line.raw.buffer, line.raw.byteOffset + 4, 8).getBigUint64(0);
        var message = encoder.encode("cosignature/v1\ntime " + timestamp.toString() + "\n" + note.body);
        if (await crypto.subtle.verify({ name: "Ed25519" }, witness.key, line.raw.slice(12), message)) { return Number(timestamp); }
      }
    }
    return null;
  }

  function bit(key, depth) { return (key[depth >> 3] >> (7 - (depth & 7))) & 1; }

  function node(left, right) { return sha256(concat(new Uint8Array([1]), left, right)); }

  // The (count, last index) the index with ROOT holds for KEY: {count: 0, last: null} when it holds none.
  async function mapProofVerify(root, key, proof) {
    if (!proof || !Number.isInteger(proof.depth) || proof.depth < 0 || proof.depth > 256 || !Array.isArray(proof.siblings)) {
      fail("bad map proof: malformed");
    }
    var bitmap = b64decode(proof.bitmap), present = proof.siblings.map(b64decode), depth = proof.depth;
    if (bitmap.length !== Math.ceil(depth / 8)) { fail("bad map proof: malformed bitmap"); }
    var bits = [], d, set = 0;
    for (d = 0; d < depth; d++) { bits.push(bit(bitmap, d)); set += bits[d]; }
    if (set !== present.length) { fail("bad map proof: the bitmap does not match the siblings"); }
    var value = EMPTY, leaf = proof.leaf, leafKey = null;
    if (leaf) {
      leafKey = b64decode(leaf.key);
      if (leafKey.length !== 32 || !Number.isInteger(leaf.count) || leaf.count < 1 || !Number.isInteger(leaf.last_index)) {
        fail("bad map proof: malformed leaf");
      }
      for (d = 0; d < depth; d++) { if (bit(leafKey, d) !== bit(key, d)) { fail("bad map proof: the leaf does not lie on the key's path"); } }
      value = await sha256(concat(new Uint8Array([0]), leafKey, uint64(leaf.count), uint64(leaf.last_index)));
    }
    var next = present.length - 1;
    for (d = depth - 1; d >= 0; d--) {
      var sibling = bits[d] ? present[next--] : EMPTY;
      value = bit(key, d) ? await node(sibling, value) : await node(value, sibling);
    }
    if (!equal(value, root)) { fail("bad map proof: it does not lead to the index root the checkpoint signs (an old or a wrong map)"); }
    if (leaf && equal(leafKey, key)) { return { count: leaf.count, last: leaf.last_index }; }
    return { count: 0, last: null };
  }

  function chainCheck(tag, entries, count, last) {
    var held = {}, i;
    entries.forEach(function (entry) { held[entry.index] = true; });
    if (entries.length !== count) {
      for (i = 0; i < entries.length; i++) {
        var prev = entries[i].subject_prev;
        if (entries.length < count && prev !== null && prev !== undefined && !held[prev]) {
          fail("missing link: entry " + entries[i].index + " names entry " + prev + " as the previous one, and the bundle lacks it");
        }
      }
      fail("wrong count: the map says " + count + " entries, the bundle holds " + entries.length);
    }
    var expectedPrev = null;
    for (i = 0; i < entries.length; i++) {
      if (entries[i].subject_seq !== i + 1) {
        fail("missing link: entry " + entries[i].index + " is number " + entries[i].subject_seq + " of the chain, but number " + (i + 1) + " in the bundle");
      }
      if (entries[i].subject_prev !== expectedPrev) {
        fail("missing link: entry " + entries[i].index + " names entry " + entries[i].subject_prev + " as the previous one, the bundle's is " + expectedPrev);
      }
      expectedPrev = entries[i].index;
    }
    if (expectedPrev !== last) { fail("missing link: the map says the newest entry is " + last + ", the bundle's is " + expectedPrev); }
  }

  // Check BUNDLE against the log key TRUSTED_LOG_KEY (served at /ledger/key) and the size of the
  // checkpoint the log published before the bundle was asked for (PUBLISHED_SIZE, or null).
  // Returns {ok: true, count, sealed: [{index, unseal_on}], treeSize, witnesses, witnessedAt, newest}
  // or {ok: false, reason}.
  async function verifyCompleteness(bundle, trustedLogKey, publishedSize) {
    try {
      if (!bundle || bundle.format !== "onecard-completeness/v1") { fail("not a completeness bundle"); }
      if (trustedLogKey && trustedLogKey.trim() !== String(bundle.verifier_key).trim()) {
        fail("the bundle names another log key than the one the log publishes");
      }
      var note = splitNote(bundle.checkpoint);
      var body = note.body.split("\n");
      if (!(await signedBy(note, await parseVerifierKey(bundle.verifier_key, 1)))) { fail("bad checkpoint: the log signature does not verify"); }
      var size = parseInt(body[1], 10), root = b64decode(body[2]);
      if (String(size) !== body[1] || size !== bundle.tree_size) { fail("bad checkpoint: it is for another tree size than the bundle"); }
      if (publishedSize !== null && size < publishedSize) {
        fail("stale: the bundle's checkpoint (" + size + " entries) is older than the one the log publishes (" + publishedSize + ")");
      }
      var indexLines = body.slice(3).filter(function (line) { return line.indexOf("index ") === 0; });
      if (indexLines.length !== 1) { fail("bad checkpoint: it carries no single index line, so it proves no count"); }
      var indexRoot = b64decode(indexLines[0].slice(6));
      var witnessedAt = null, witnesses = 0;
      for (var w = 0; w < (bundle.witness_keys || []).length; w++) {
        var at = await cosignedAt(note, await parseVerifierKey(bundle.witness_keys[w], 4));
        if (at !== null) { witnesses += 1; witnessedAt = Math.max(witnessedAt || 0, at); }
      }
      if (!witnesses) { fail("not witnessed: no witness cosigned the checkpoint"); }
      var expected = {}, chains = {}, total = 0;
      if (!Array.isArray(bundle.subjects) || !bundle.subjects.length) { fail("the bundle names no subject tag"); }
      for (var s = 0; s < bundle.subjects.length; s++) {
        var subject = bundle.subjects[s];
        if (typeof subject.tag !== "string" || expected[subject.tag]) { fail("a subject tag is missing or repeated"); }
        var held = await mapProofVerify(indexRoot, await sha256(encoder.encode(subject.tag)), subject.proof);
        if (subject.count !== held.count || subject.last_index !== held.last) {
          fail("wrong count: the map proof says " + held.count + " entries, the bundle says " + subject.count);
        }
        expected[subject.tag] = held;
        chains[subject.tag] = [];
        total += held.count;
      }
      var previous = -1, sealed = [], newest = null;
      for (var e = 0; e < bundle.entries.length; e++) {
        var item = bundle.entries[e];
        if (!Number.isInteger(item.index)) { fail("an entry has no index"); }
        if (item.index <= previous) { fail("reordered: entry " + item.index + " comes after entry " + previous + "; entries must be oldest first"); }
        previous = item.index;
        var bytes = b64decode(item.entry_bytes);
        var entry = JSON.parse(new TextDecoder().decode(bytes));
        if (entry.index !== item.index) { fail("entry " + item.index + "'s bytes name another index"); }
        var leaf = await sha256(concat(new Uint8Array([0]), await leafBytes(item, bytes)));
        var computed = await rootFromInclusion(item.index, size, leaf, (item.path || []).map(b64decode));
        if (!equal(computed, root)) { fail("bad inclusion proof: entry " + item.index + " is not in the signed tree"); }
        if (!chains[entry.subject]) { fail("entry " + item.index + " is about another subject than the bundle's"); }
        chains[entry.subject].push(entry);
        if (entry.sealed && typeof entry.sealed === "object") {
          if (item.opening) {
            // A released sealed entry: its contents and salt must hash to the commitment the log holds.
            var opened = await sha256(concat(SEALED_DOMAIN, b64decode(item.opening.salt), encoder.encode(item.opening.contents)));
            if (!equal(opened, b64decode(entry.sealed.commitment))) {
              fail("bad opening: sealed entry " + item.index + "'s released contents do not match its commitment");
            }
          } else {
            sealed.push({ index: entry.index, unseal_on: entry.sealed.unseal_on });
          }
        }
        if (entry.time) { newest = entry.time; }
      }
      Object.keys(chains).forEach(function (tag) { chainCheck(tag, chains[tag], expected[tag].count, expected[tag].last); });
      return { ok: true, count: total, sealed: sealed, treeSize: size, witnesses: witnesses, witnessedAt: witnessedAt, newest: newest };
    } catch (error) {
      if (error.verification) { return { ok: false, reason: error.message }; }
      return { ok: false, reason: "malformed bundle (" + error.message + ")" };
    }
  }

  window.OneCardCompleteness = { verifyCompleteness: verifyCompleteness };

  function text(messages, name, values) {
    var value = messages.getAttribute("data-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { value = value.split("{" + key + "}").join(values[key]); });
    return value;
  }

  function when(outcome) {
    var lang = document.documentElement.lang || undefined;
    var date = outcome.witnessedAt ? new Date(outcome.witnessedAt * 1000) : new Date();
    return date.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" });
  }

  function show(result, messages, outcome) {
    result.textContent = "";
    var summary = document.createElement("strong");
    if (outcome.ok) {
      var name = outcome.count === 0 ? "none" : outcome.count === 1 ? "one" : "all";
      summary.textContent = text(messages, name, { n: outcome.count, date: when(outcome) });
      result.className = "verify-result ok";
      result.appendChild(summary);
      var details = document.createElement("ul");
      details.className = "verify-checks";
      var byDate = {};
      outcome.sealed.forEach(function (item) { byDate[item.unseal_on] = (byDate[item.unseal_on] || 0) + 1; });
      Object.keys(byDate).sort().forEach(function (date) {
        var item = document.createElement("li");
        item.className = "completeness-sealed";
        item.textContent = text(messages, "sealed", { n: byDate[date], date: date });
        details.appendChild(item);
      });
      var checkpoint = document.createElement("li");
      checkpoint.textContent = text(messages, "witnesses", { size: outcome.treeSize, n: outcome.witnesses });
      details.appendChild(checkpoint);
      result.appendChild(details);
    } else {
      summary.textContent = text(messages, "fail") + " " + outcome.reason;
      result.className = "verify-result fail";
      result.appendChild(summary);
    }
  }

  async function fetchText(url) {
    var response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) { throw new Error("HTTP " + response.status); }
    return response.text();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("completeness-check");
    var messages = document.getElementById("completeness-messages");
    var result = document.getElementById("completeness-result");
    if (!button || !messages || !result) { return; }
    button.addEventListener("click", async function () {
      result.className = "verify-result";
      result.textContent = text(messages, "busy");
      var outcome;
      try {
        // The published checkpoint first: the bundle asked for afterwards must be at least as new.
        var published = await fetchText(messages.getAttribute("data-checkpoint-url"));
        var publishedSize = parseInt(published.split("\n")[1], 10);
        var trusted = await fetchText(messages.getAttribute("data-log-key-url"));
        var bundle = JSON.parse(await fetchText(button.getAttribute("data-bundle-url")));
        outcome = await verifyCompleteness(bundle, trusted, isNaN(publishedSize) ? null : publishedSize);
      } catch (error) {
        outcome = { ok: false, reason: text(messages, "reason-fetch") + " (" + error.message + ")" };
      }
      show(result, messages, outcome);
    });
  });
})();
