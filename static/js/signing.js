/*
 * Browser side of signing-key registration and voucher signing.
 *
 * Plain script (no modules, no dependencies). Needs WebCrypto Ed25519
 * (current Chromium, Firefox, Safari) and a secure context (https://, or
 * http://127.0.0.1 / http://localhost in development).
 *
 * The private key is generated NON-extractable and never leaves this browser:
 * it is kept as a CryptoKey in IndexedDB (database "treasury-signing", store
 * "keys", keyed by the base64 of the raw public key). Only the public key is
 * sent to the server, which a treasury administrator then approves.
 *
 *   window.TreasurySigning.generateKey(label)          -> base64 raw public key
 *   window.TreasurySigning.listLocalKeys()             -> [{id, publicKey, label, createdAt}]
 *   window.TreasurySigning.hasKey(publicKeyB64)        -> boolean
 *   window.TreasurySigning.sign(publicKeyB64, hashHex) -> base64 signature over
 *                                                         the 32 raw bytes of the hash
 *   window.TreasurySigning.removeKey(publicKeyB64)     -> boolean (was there one)
 *   window.TreasurySigning.isSupported()               -> boolean (Ed25519 usable)
 *
 * Declarative behaviour (wired on DOMContentLoaded and after htmx swaps; the
 * submit handler is delegated, so swapped-in forms work too):
 *
 *   <form data-keygen ...>  with <input type="hidden" name="public_key">:
 *     on submit, when public_key is empty, a key pair is generated and stored,
 *     public_key is filled and the form is submitted again. An optional field
 *     name="label" (or data-key-label on the form) labels the local key.
 *
 *   <form data-sign data-content-hash="<64 hex>" ...> with <select name="key_id">
 *     whose options carry data-public-key, and <input type="hidden" name="signature">:
 *     on submit, the hash is signed with the selected key's local private key,
 *     signature is filled and the form is submitted again.
 *
 * Errors are shown in [data-signing-error] inside the form (created when
 * missing) with role="alert". Texts come from data-msg-* attributes on the form
 * (data-msg-no-key, data-msg-unsupported, data-msg-keygen-failed,
 * data-msg-sign-failed, data-msg-no-hash, data-msg-no-key-selected,
 * data-msg-storage-failed), falling back to the bilingual texts below.
 */
(function () {
  "use strict";

  var DB_NAME = "treasury-signing";
  var STORE = "keys";
  var DB_VERSION = 1;
  var ALGORITHM = { name: "Ed25519" };

  var DEFAULT_MESSAGES = {
    noKey: "Khóa ký này không có trên trình duyệt này. / This signing key is not stored in this browser.",
    unsupported: "Trình duyệt này không hỗ trợ chữ ký Ed25519; hãy dùng phiên bản mới của Chrome, Edge, Firefox hoặc Safari. / This browser does not support Ed25519 signatures; please use a current version of Chrome, Edge, Firefox or Safari.",
    keygenFailed: "Không tạo được khóa ký. / The signing key could not be created.",
    signFailed: "Không ký được chứng từ. / The voucher could not be signed.",
    noHash: "Thiếu mã băm nội dung của chứng từ; hãy tải lại trang. / The voucher's content hash is missing; please reload the page.",
    noKeySelected: "Hãy chọn một khóa ký. / Please choose a signing key.",
    storageFailed: "Không truy cập được kho khóa của trình duyệt (IndexedDB); chế độ duyệt riêng tư có thể chặn nó. / The browser's key storage (IndexedDB) is not available; private browsing may block it."
  };

  // ---------- encoding helpers ----------

  function bytesToBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary);
  }

  // Accept standard or URL-safe base64, with or without padding; return the
  // canonical padded standard form, which is the IndexedDB key.
  function normalizeBase64(value) {
    var s = String(value || "").trim().replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    if (!s || /[^A-Za-z0-9+/]/.test(s) || s.length % 4 === 1) {
      throw SigningError("invalid_public_key", "Invalid base64 public key");
    }
    while (s.length % 4) {
      s += "=";
    }
    return s;
  }

  function hexToBytes(hex) {
    var s = String(hex || "").trim();
    if (!/^[0-9a-fA-F]{64}$/.test(s)) {
      throw SigningError("invalid_hash", "The content hash must be 64 hexadecimal characters (SHA-256)");
    }
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) {
      out[i] = parseInt(s.substr(i * 2, 2), 16);
    }
    return out;
  }

  function SigningError(code, message) {
    var err = new Error(message);
    err.name = "SigningError";
    err.code = code;
    return err;
  }

  // ---------- IndexedDB ----------

  var dbPromise = null;

  function openDb() {
    if (dbPromise) {
      return dbPromise;
    }
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) {
        reject(SigningError("storage_unavailable", "IndexedDB is not available"));
        return;
      }
      var request = window.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(STORE)) {
          db.createObjectStore(STORE, { keyPath: "id" });
        }
      };
      request.onsuccess = function () {
        var db = request.result;
        // Let a future version of this script upgrade the schema in another tab.
        db.onversionchange = function () {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      request.onerror = function () {
        reject(SigningError("storage_unavailable", String(request.error)));
      };
      request.onblocked = function () {
        reject(SigningError("storage_unavailable", "IndexedDB upgrade blocked by another tab"));
      };
    });
    dbPromise.catch(function () {
      dbPromise = null;
    });
    return dbPromise;
  }

  function withStore(mode, operation) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var store = tx.objectStore(STORE);
        var request = operation(store);
        var result;
        request.onsuccess = function () {
          result = request.result;
        };
        tx.oncomplete = function () {
          resolve(result);
        };
        tx.onerror = tx.onabort = function () {
          reject(SigningError("storage_failed", String(tx.error || request.error)));
        };
      });
    });
  }

  function getRecord(publicKeyB64) {
    var id;
    try {
      id = normalizeBase64(publicKeyB64);
    } catch (e) {
      return Promise.resolve(undefined);
    }
    return withStore("readonly", function (store) {
      return store.get(id);
    });
  }

  // ---------- public API ----------

  function requireSubtle() {
    if (!window.crypto || !window.crypto.subtle) {
      throw SigningError("unsupported", "WebCrypto is not available (a secure context is required)");
    }
    return window.crypto.subtle;
  }

  async function generateKey(label) {
    var subtle = requireSubtle();
    var pair;
    try {
      pair = await subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
    } catch (e) {
      throw SigningError("unsupported", "Ed25519 key generation failed: " + e);
    }
    // The public half of a pair is always exportable; the private half is not.
    var raw = await subtle.exportKey("raw", pair.publicKey);
    var publicKeyB64 = bytesToBase64(raw);
    await withStore("readwrite", function (store) {
      return store.put({
        id: publicKeyB64,
        publicKey: publicKeyB64,
        label: label ? String(label) : "",
        createdAt: new Date().toISOString(),
        keyPair: { privateKey: pair.privateKey, publicKey: pair.publicKey }
      });
    });
    return publicKeyB64;
  }

  async function listLocalKeys() {
    var records = await withStore("readonly", function (store) {
      return store.getAll();
    });
    return (records || []).map(function (r) {
      return { id: r.id, publicKey: r.publicKey, label: r.label, createdAt: r.createdAt };
    });
  }

  async function hasKey(publicKeyB64) {
    var record = await getRecord(publicKeyB64);
    return Boolean(record && record.keyPair && record.keyPair.privateKey);
  }

  async function sign(publicKeyB64, contentHashHex) {
    var subtle = requireSubtle();
    var message = hexToBytes(contentHashHex);
    var record = await getRecord(publicKeyB64);
    if (!record || !record.keyPair || !record.keyPair.privateKey) {
      throw SigningError("no_local_key", "This signing key is not stored in this browser");
    }
    var signature = await subtle.sign(ALGORITHM, record.keyPair.privateKey, message);
    // Cheap self-check: never send a signature that our own public key rejects.
    var ok = await subtle.verify(ALGORITHM, record.keyPair.publicKey, signature, message);
    if (!ok) {
      throw SigningError("sign_failed", "Local verification of the new signature failed");
    }
    return bytesToBase64(signature);
  }

  async function removeKey(publicKeyB64) {
    var existed = await hasKey(publicKeyB64);
    if (existed) {
      var id = normalizeBase64(publicKeyB64);
      await withStore("readwrite", function (store) {
        return store.delete(id);
      });
    }
    return existed;
  }

  var supportedPromise = null;

  function isSupported() {
    if (!supportedPromise) {
      supportedPromise = (async function () {
        try {
          var subtle = requireSubtle();
          await subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
          return true;
        } catch (e) {
          return false;
        }
      })();
    }
    return supportedPromise;
  }

  // ---------- declarative forms ----------

  function message(form, key) {
    // data-msg-no-key -> dataset.msgNoKey
    var attr = "msg" + key.charAt(0).toUpperCase() + key.slice(1);
    return (form.dataset && form.dataset[attr]) || DEFAULT_MESSAGES[key];
  }

  function errorBox(form) {
    var box = form.querySelector("[data-signing-error]");
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("data-signing-error", "");
      box.className = "field-error";
      form.insertBefore(box, form.firstChild);
    }
    box.setAttribute("role", "alert");
    return box;
  }

  function showError(form, text) {
    var box = errorBox(form);
    box.textContent = text;
    box.hidden = false;
  }

  function clearError(form) {
    var box = form.querySelector("[data-signing-error]");
    if (box) {
      box.textContent = "";
    }
  }

  function messageForError(form, err, fallbackKey) {
    var code = err && err.code;
    if (code === "no_local_key") return message(form, "noKey");
    if (code === "unsupported") return message(form, "unsupported");
    if (code === "invalid_hash") return message(form, "noHash");
    if (code === "storage_unavailable" || code === "storage_failed") return message(form, "storageFailed");
    if (err && (err.name === "NotSupportedError" || err.name === "InvalidAccessError")) {
      return message(form, "unsupported");
    }
    return message(form, fallbackKey);
  }

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return (el.type === "submit" || el.type === "image") && !el.disabled;
    });
  }

  function setBusy(form, busy, buttons) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    buttons.forEach(function (b) {
      b.disabled = busy;
    });
  }

  // Submit again, through the normal path (so htmx and validation still run),
  // flagged so that our handler and portal.js's confirm handler let it pass.
  function resubmit(form, submitter) {
    form.__portalResubmit = true;
    try {
      if (typeof form.requestSubmit === "function") {
        if (submitter && submitter.form === form) {
          form.requestSubmit(submitter);
        } else {
          form.requestSubmit();
        }
      } else {
        form.submit();
      }
    } finally {
      form.__portalResubmit = false;
    }
  }

  function selectedPublicKey(form) {
    var field = form.elements.namedItem("key_id");
    if (!field) return "";
    if (field.tagName === "SELECT") {
      var option = field.options[field.selectedIndex];
      return (option && option.value && option.getAttribute("data-public-key")) || "";
    }
    // A single key rendered as a hidden input or radio group.
    if (typeof RadioNodeList !== "undefined" && field instanceof RadioNodeList) {
      var checked = Array.prototype.find.call(field, function (el) { return el.checked; });
      return (checked && checked.getAttribute("data-public-key")) || "";
    }
    return field.getAttribute("data-public-key") || "";
  }

  async function handleKeygen(form, submitter) {
    var input = form.elements.namedItem("public_key");
    var labelField = form.elements.namedItem("label");
    var label = form.getAttribute("data-key-label") || (labelField && labelField.value) || "";
    var buttons = submitButtons(form);
    setBusy(form, true, buttons);
    try {
      input.value = await generateKey(label);
    } catch (err) {
      setBusy(form, false, buttons);
      showError(form, messageForError(form, err, "keygenFailed"));
      return;
    }
    setBusy(form, false, buttons);
    resubmit(form, submitter);
  }

  async function handleSign(form, submitter) {
    var signatureField = form.elements.namedItem("signature");
    var hash = form.getAttribute("data-content-hash") || "";
    var publicKey = selectedPublicKey(form);
    signatureField.value = "";
    if (!hash) {
      showError(form, message(form, "noHash"));
      return;
    }
    if (!publicKey) {
      showError(form, message(form, "noKeySelected"));
      return;
    }
    var buttons = submitButtons(form);
    setBusy(form, true, buttons);
    try {
      signatureField.value = await sign(publicKey, hash);
    } catch (err) {
      setBusy(form, false, buttons);
      showError(form, messageForError(form, err, "signFailed"));
      return;
    }
    setBusy(form, false, buttons);
    resubmit(form, submitter);
  }

  function onSubmit(evt) {
    var form = evt.target;
    if (!(form instanceof HTMLFormElement) || form.__portalResubmit) {
      return;
    }
    var isKeygen = form.hasAttribute("data-keygen");
    var isSign = form.hasAttribute("data-sign");
    if (!isKeygen && !isSign) {
      return;
    }
    if (evt.defaultPrevented) {
      return; // someone (e.g. a cancelled confirm) already stopped this submit
    }
    if (isKeygen) {
      var input = form.elements.namedItem("public_key");
      if (!input || input.value) {
        return; // already has a key: submit as usual
      }
    }
    if (isSign && !form.elements.namedItem("signature")) {
      return;
    }
    // Capture phase on document: stop the event before htmx's listener on the
    // form sees it; the flagged resubmit goes through once the work is done.
    evt.preventDefault();
    evt.stopPropagation();
    clearError(form);
    if (isKeygen) {
      handleKeygen(form, evt.submitter);
    } else {
      handleSign(form, evt.submitter);
    }
  }

  // Mark which key options have a private key in this browser, so templates and
  // CSS can hint at them (option[data-local-key="no"]).
  function decorate(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var forms = [];
    if (scope.matches && scope.matches("form[data-sign], form[data-keygen]")) forms.push(scope);
    Array.prototype.push.apply(forms, scope.querySelectorAll("form[data-sign], form[data-keygen]"));
    forms.forEach(function (form) {
      var box = form.querySelector("[data-signing-error]");
      if (box) box.setAttribute("role", "alert");
      if (!form.hasAttribute("data-sign")) return;
      Array.prototype.forEach.call(form.querySelectorAll("[data-public-key]"), function (el) {
        hasKey(el.getAttribute("data-public-key")).then(function (present) {
          el.setAttribute("data-local-key", present ? "yes" : "no");
        }, function () {});
      });
    });
  }

  document.addEventListener("submit", onSubmit, true);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { decorate(document); });
  } else {
    decorate(document);
  }
  document.addEventListener("htmx:afterSwap", function (evt) {
    decorate((evt.detail && evt.detail.target) || document);
  });

  window.TreasurySigning = {
    generateKey: generateKey,
    listLocalKeys: listLocalKeys,
    hasKey: hasKey,
    sign: sign,
    removeKey: removeKey,
    isSupported: isSupported,
    messages: DEFAULT_MESSAGES
  };
})();
