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
 * - The header's menu button (phones): shown here, it toggles aria-expanded,
 *   which the stylesheet reads to show or hide the navigation; Escape closes it.
 *   Without this script the button stays hidden and the navigation visible.
 * - Wide tables: a .table-wrap whose table is wider than the screen gets the
 *   class "scrolls" and, just before it, a sentence saying it scrolls sideways
 *   (the text comes translated in <body data-msg-scroll-cue>).
 * - [data-percent]: the fill of a meter or chart bar gets that width. The
 *   Content-Security-Policy allows no style attribute, so the page carries the
 *   number and this script sets the width through the CSSOM (also on content
 *   htmx swaps in). Without the script the bar is empty; its number is in the
 *   text and the aria values beside it.
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

  function fillBars(root) {
    var bars = (root || document).querySelectorAll ? (root || document).querySelectorAll("[data-percent]") : [];
    for (var i = 0; i < bars.length; i++) {
      var value = parseFloat(String(bars[i].getAttribute("data-percent")).replace(",", "."));
      if (!isNaN(value)) {
        bars[i].style.width = Math.max(0, Math.min(100, value)) + "%";
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      fillBars(document);
    });
  } else {
    fillBars(document);
  }
  document.addEventListener("htmx:load", function (evt) {
    var elt = evt.detail && evt.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-percent")) {
      fillBars(elt.parentNode || document);
    } else {
      fillBars(elt || document);
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

  function setUpMenu() {
    var button = document.querySelector(".site-header .menu-toggle");
    var menu = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!button || !menu) {
      return;
    }
    button.hidden = false;
    button.closest(".site-header").classList.add("menu-ready");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", open ? "false" : "true");
    });
    document.addEventListener("keydown", function (evt) {
      if (evt.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function markWideTables() {
    var text = document.body.getAttribute("data-msg-scroll-cue");
    var wraps = document.querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      var wide = wrap.scrollWidth > wrap.clientWidth + 1;
      var cue = wrap.previousElementSibling;
      var hasCue = cue !== null && cue.classList.contains("scroll-cue");
      wrap.classList.toggle("scrolls", wide);
      if (wide && !wrap.hasAttribute("tabindex")) {
        // A box that scrolls must be reachable from the keyboard (arrow keys scroll it).
        var caption = wrap.querySelector("caption");
        wrap.setAttribute("tabindex", "0");
        if (!wrap.hasAttribute("role") && caption) {
          wrap.setAttribute("role", "region");
          wrap.setAttribute("aria-label", caption.textContent.trim());
        }
      }
      if (wide && !hasCue && text) {
        cue = document.createElement("p");
        cue.className = "scroll-cue";
        cue.textContent = text;
        wrap.parentNode.insertBefore(cue, wrap);
      } else if (!wide && hasCue) {
        cue.parentNode.removeChild(cue);
      }
    }
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(markWideTables, 150);
  });
  document.addEventListener("htmx:afterSettle", markWideTables);

  function ready() {
    setUpMenu();
    markWideTables();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
