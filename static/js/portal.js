/*
 * Small progressive enhancements for the treasury portal. No dependencies;
 * every page works without this script.
 *
 * - htmx CSRF: each non-GET htmx request carries X-CSRFToken, read from the
 *   "csrftoken" cookie or, when the cookie is absent or HttpOnly, from
 *   <meta name="csrf-token" content="...">.
 * - [data-confirm]: a form with data-confirm="question" (or a submit button
 *   with it) asks confirm(question) before it is submitted. (For htmx requests
 *   outside a form, use htmx's own hx-confirm.)
 * - Messages are never dismissed automatically: people read at their own pace.
 */
(function () {
  "use strict";

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      if (part.substring(0, name.length + 1) === name + "=") {
        try {
          return decodeURIComponent(part.substring(name.length + 1));
        } catch (e) {
          return part.substring(name.length + 1);
        }
      }
    }
    return "";
  }

  function csrfToken() {
    var fromCookie = readCookie("csrftoken");
    if (fromCookie) {
      return fromCookie;
    }
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var detail = evt.detail || {};
    var verb = String(detail.verb || "").toUpperCase();
    if (verb === "GET" || verb === "HEAD" || verb === "OPTIONS" || verb === "TRACE") {
      return;
    }
    var token = csrfToken();
    if (token && detail.headers) {
      detail.headers["X-CSRFToken"] = token;
    }
  });

  // Capture phase on window: runs before signing.js (document, capture) and
  // before htmx's listeners on the form, so a "Cancel" stops everything.
  // A resubmission made by signing.js after its async work is flagged with
  // form.__portalResubmit and is not asked about a second time.
  window.addEventListener(
    "submit",
    function (evt) {
      var form = evt.target;
      if (!(form instanceof HTMLFormElement) || form.__portalResubmit) {
        return;
      }
      var submitter = evt.submitter;
      var question =
        (submitter && submitter.getAttribute && submitter.getAttribute("data-confirm")) ||
        form.getAttribute("data-confirm");
      if (!question) {
        return;
      }
      if (!window.confirm(question)) {
        evt.preventDefault();
        evt.stopImmediatePropagation();
      }
    },
    true
  );
})();
