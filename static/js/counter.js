// The pharmacy counter: open a session with the resident's one-use code, show the cardholder's
// name and card photo to compare with the person, and dispense their prescriptions.
// Every call goes to the partner API with the pharmacy's own key, held in this tab's memory only.
(function () {
  "use strict";
  var root = document.getElementById("counter");
  if (!root) { return; }

  var sessionsUrl = root.getAttribute("data-sessions-url");
  var dispensationsUrl = root.getAttribute("data-dispensations-url");
  var dispensingPurpose = root.getAttribute("data-dispensing-purpose");
  var identificationPurpose = root.getAttribute("data-identification-purpose");

  var apiKey = null;
  var current = null; // {id, expiresAt}
  var expiryTimer = null;

  function byId(id) { return document.getElementById(id); }

  function message(key) {
    var item = root.querySelector('#counter-messages [data-key="' + key + '"]');
    return item ? item.textContent : null;
  }

  // The slug of a problem type (/api/problems/<slug>), or "network" when nothing came back.
  function problemSlug(problem) {
    if (!problem || typeof problem.type !== "string") { return "failed"; }
    var slug = problem.type.split("/").pop();
    return slug.indexOf("credentials-") === 0 ? "credentials-invalid" : slug;
  }

  function problemText(problem) {
    var text = message(problemSlug(problem));
    if (text) { return text; }
    return (problem && (problem.detail || problem.title)) || message("failed");
  }

  function showError(text) {
    var box = byId("counter-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // Call the partner API; resolve to {ok, status, body (JSON or Blob), problem}.
  async function call(url, options) {
    var headers = {"Authorization": "Bearer " + apiKey, "X-Purpose": options.purpose};
    if (options.body) { headers["Content-Type"] = "application/json"; }
    if (options.idempotencyKey) { headers["Idempotency-Key"] = options.idempotencyKey; }
    var response;
    try {
      response = await fetch(url, {
        method: options.method || "GET",
        headers: headers,
        body: options.body ? JSON.stringify(options.body) : undefined,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      return {ok: false, status: 0, problem: {type: "/network"}};
    }
    var type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      var problem = null;
      if (type.indexOf("json") !== -1) {
        try { problem = await response.json(); } catch (error) { problem = null; }
      }
      return {ok: false, status: response.status, problem: problem};
    }
    var body = type.indexOf("json") !== -1 ? await response.json() : await response.blob();
    return {ok: true, status: response.status, body: body};
  }

  function blobToDataUrl(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(blob);
    });
  }

  function localTime(iso) {
    var when = new Date(iso);
    return when.toLocaleTimeString(document.documentElement.lang || undefined, {hour: "2-digit", minute: "2-digit"});
  }

  function localDate(iso) {
    return new Date(iso).toLocaleDateString(document.documentElement.lang || undefined);
  }

  // Forget everything about the cardholder: the photo's pixels, the name and the prescriptions.
  function sessionClear() {
    current = null;
    if (expiryTimer) { window.clearInterval(expiryTimer); expiryTimer = null; }
    var photo = byId("holder-photo");
    photo.removeAttribute("src");
    photo.hidden = true;
    byId("holder-name").textContent = "";
    byId("holder-photo-missing").hidden = true;
    byId("holder-photo-refused").hidden = true;
    byId("session-expiry").textContent = "";
    byId("session-coverage").textContent = "";
    byId("prescription-rows").replaceChildren();
    byId("counter-holder").hidden = true;
    byId("counter-prescriptions").hidden = true;
    byId("session-end-wrap").hidden = true;
  }

  function sessionExpired() {
    sessionClear();
    showError(message("session-ended"));
    byId("scan-input").focus();
  }

  function expiryWatch(expiresAt) {
    var ends = new Date(expiresAt).getTime();
    expiryTimer = window.setInterval(function () {
      if (Date.now() >= ends) { sessionExpired(); }
    }, 1000);
  }

  async function holderShow(session) {
    var base = sessionsUrl + "/" + encodeURIComponent(session) + "/";
    var holder = await call(base + "holder", {purpose: identificationPurpose});
    if (!current || current.id !== session) { return; }
    if (!holder.ok) {
      var slug = problemSlug(holder.problem);
      if (slug === "scope-missing" || slug === "purpose-not-allowed") {
        byId("holder-photo-refused").hidden = false;
      } else {
        showError(problemText(holder.problem));
      }
      return;
    }
    byId("holder-name").textContent = holder.body.full_name;
    if (!holder.body.photo) {
      byId("holder-photo-missing").hidden = false;
      return;
    }
    var photo = await call(base + "photo", {purpose: identificationPurpose});
    if (!current || current.id !== session) { return; }
    if (!photo.ok) {
      if (problemSlug(photo.problem) === "photo-missing") {
        byId("holder-photo-missing").hidden = false;
      } else {
        showError(problemText(photo.problem));
      }
      return;
    }
    var image = byId("holder-photo");
    image.src = await blobToDataUrl(photo.body);
    image.hidden = false;
  }

  function fieldSet(row, name, text) {
    var cell = row.querySelector('[data-field="' + name + '"]');
    cell.textContent = text;
    return cell;
  }

  function prescriptionRow(prescription, session) {
    var row = byId("prescription-row").content.firstElementChild.cloneNode(true);
    var id = "rx-" + prescription.id;
    row.id = id;
    fieldSet(row, "drug_name", prescription.drug_name);
    fieldSet(row, "strength", prescription.strength);
    fieldSet(row, "form", prescription.form);
    var controlled = row.querySelector('[data-field="controlled"]');
    controlled.textContent = prescription.controlled_class !== "none" ? controlled.getAttribute("data-text") : "";
    fieldSet(row, "quantity_per_fill", String(prescription.quantity_per_fill));
    fieldSet(row, "remaining_quantity", String(prescription.remaining_quantity));
    var next = row.querySelector('[data-field="next_fill_from"]');
    next.textContent = prescription.next_fill_from ? localDate(prescription.next_fill_from) : next.getAttribute("data-none");
    row.querySelectorAll("[data-input]").forEach(function (input) {
      input.id = id + "-" + input.getAttribute("data-input");
    });
    row.querySelectorAll("[data-for]").forEach(function (label) {
      label.htmlFor = id + "-" + label.getAttribute("data-for");
    });
    var form = row.querySelector("form");
    var quantity = form.querySelector('[data-input="quantity"]');
    quantity.value = String(Math.min(prescription.quantity_per_fill, prescription.remaining_quantity));
    quantity.max = String(prescription.quantity_per_fill);
    // One key per fill attempt: a retry after a lost answer is answered once, never dispensed twice.
    var idempotencyKey = randomKey();
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      var result = form.querySelector(".dispense-result");
      var amount = parseInt(quantity.value, 10);
      var price = form.querySelector('[data-input="price"]').value.trim();
      if (!(amount >= 1) || !/^\d+(\.\d{1,2})?$/.test(price)) {
        result.textContent = message("quantity-invalid");
        return;
      }
      var codes = form.querySelector('[data-input="codes"]').value.split(/\s+/).filter(Boolean);
      var button = form.querySelector("button");
      button.disabled = true;
      var answer = await call(dispensationsUrl, {
        method: "POST",
        purpose: dispensingPurpose,
        idempotencyKey: idempotencyKey,
        body: {session: session, prescription: prescription.id, quantity: amount, price: price, traceability_codes: codes},
      });
      button.disabled = false;
      if (answer.status !== 0) { idempotencyKey = randomKey(); }
      if (!answer.ok) {
        result.textContent = problemText(answer.problem);
        if (problemSlug(answer.problem) === "session-invalid") { sessionExpired(); }
        return;
      }
      result.textContent = message("dispensed")
        .replace("__QUANTITY__", String(answer.body.quantity))
        .replace("__INSURED__", answer.body.insured_share)
        .replace("__RESIDENT__", answer.body.resident_share);
      if (answer.body.remaining_quantity !== null) {
        fieldSet(row, "remaining_quantity", String(answer.body.remaining_quantity));
      }
    });
    return row;
  }

  function sessionShow(opened) {
    current = {id: opened.session, expiresAt: opened.expires_at};
    var expiry = byId("session-expiry");
    expiry.textContent = expiry.getAttribute("data-template").replace("__TIME__", localTime(opened.expires_at));
    var coverage = byId("session-coverage");
    var rate = Math.round(parseFloat(opened.reimbursement_rate) * 100);
    coverage.textContent = opened.covered
      ? coverage.getAttribute("data-covered").replace("__RATE__", rate + "%")
      : coverage.getAttribute("data-uncovered");
    var rows = byId("prescription-rows");
    opened.prescriptions.forEach(function (prescription) {
      rows.appendChild(prescriptionRow(prescription, opened.session));
    });
    byId("prescriptions-none").hidden = opened.prescriptions.length > 0;
    byId("prescriptions-table").hidden = opened.prescriptions.length === 0;
    byId("counter-holder").hidden = false;
    byId("counter-prescriptions").hidden = false;
    byId("session-end-wrap").hidden = false;
    expiryWatch(opened.expires_at);
    byId("counter-holder-heading").focus();
  }

  byId("key-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = byId("key-input");
    var value = input.value.trim();
    if (!value) { showError(message("key-missing")); return; }
    apiKey = value;
    input.value = "";
    showError("");
    byId("key-form").hidden = true;
    byId("key-ready").hidden = false;
    byId("counter-scan").hidden = false;
    byId("scan-input").focus();
  });

  byId("key-forget").addEventListener("click", function () {
    apiKey = null;
    sessionClear();
    showError("");
    byId("key-form").hidden = false;
    byId("key-ready").hidden = true;
    byId("counter-scan").hidden = true;
    byId("key-input").focus();
  });

  byId("scan-form").addEventListener("submit", async function (event) {
    event.preventDefault();
    var input = byId("scan-input");
    var token = input.value.trim();
    if (!token) { showError(message("scan-missing")); return; }
    input.value = "";
    sessionClear();
    showError("");
    var opened = await call(sessionsUrl, {method: "POST", purpose: dispensingPurpose, body: {token: token}});
    if (!opened.ok) {
      showError(problemText(opened.problem));
      input.focus();
      return;
    }
    sessionShow(opened.body);
    await holderShow(opened.body.session);
  });

  byId("session-end").addEventListener("click", function () {
    sessionClear();
    showError("");
    byId("scan-input").focus();
  });

  byId("counter-holder-heading").tabIndex = -1;
})();
