/* SyncBucket's own script: small, no build step, no inline code (the CSP forbids it).
 *
 * 1. Live progress falls back to polling when Server-Sent Events are blocked.
 * 2. The Sync Bucket keeps a selection across pages and filters (sessionStorage),
 *    with shift-click ranges, Select All (= the whole filter) and a visible count.
 */
(function () {
  "use strict";

  /* ---- 1. live progress ------------------------------------------------------ */
  function liveProgress(live) {
    var progressUrl = live.getAttribute("data-progress-url");
    var afterUrl = live.getAttribute("data-after-url");
    var lastMessage = Date.now();
    var errors = 0;
    var polling = null;
    var source = null;

    function finished() {
      var fragment = document.querySelector("#progress [data-finished]");
      return fragment !== null && fragment.getAttribute("data-finished") === "true";
    }

    function loadAfter() {
      if (afterUrl) {
        htmx.ajax("GET", afterUrl, { target: "#after", swap: "innerHTML" });
        afterUrl = null;
      }
    }

    function poll() {
      if (polling !== null) { return; }
      live.removeAttribute("sse-connect");  // no reconnect by the extension either
      if (source !== null) { source.close(); }
      live.setAttribute("data-mode", "polling");
      polling = window.setInterval(function () {
        htmx.ajax("GET", progressUrl, { target: "#progress", swap: "innerHTML" }).then(function () {
          if (finished()) {
            window.clearInterval(polling);
            loadAfter();
          }
        });
      }, 2000);
    }

    // The status word lives outside the swapped fragment, in an aria-live region, and
    // changes only when the run's status does: a screen reader hears "Cancelled" once,
    // not a progress sentence every second.
    function announce() {
      var fragment = document.querySelector("#progress [data-status-words]");
      var status = document.getElementById("run-status");
      if (fragment && status && status.textContent !== fragment.getAttribute("data-status-words")) {
        status.textContent = fragment.getAttribute("data-status-words");
      }
    }
    document.body.addEventListener("htmx:afterSwap", announce);
    document.body.addEventListener("htmx:sseMessage", function () { window.setTimeout(announce, 0); });

    live.addEventListener("htmx:sseOpen", function (event) {
      source = event.detail.source;
      errors = 0;  // a reconnect after a restart is not a blocked stream
      live.setAttribute("data-mode", "sse");
    });
    // The summary replaces the controls a keyboard user may be on (Cancel sync…):
    // focus goes to its heading instead of being dropped to the top of the page.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.target && event.target.id === "after") {
        var heading = document.getElementById("summary-heading");
        if (heading && (document.activeElement === document.body || !document.activeElement)) {
          heading.focus();
        }
      }
    });
    live.addEventListener("htmx:sseMessage", function () { lastMessage = Date.now(); });
    live.addEventListener("htmx:sseError", function (event) {
      if (event.detail && event.detail.source) { source = event.detail.source; }
      errors += 1;
      if (errors >= 2 && !finished()) { poll(); }
    });
    // The server sends a frame at once and then every tick: silence means a proxy is
    // holding the stream back.
    window.setInterval(function () {
      if (polling === null && !finished() && Date.now() - lastMessage > 8000) { poll(); }
    }, 2000);
  }

  /* ---- 2. the Sync Bucket's selection ----------------------------------------- */
  // One selection per person: the key carries the firm and user, and signing in or out
  // clears every selection this tab kept (the next person starts with none).
  var STORE = "syncbucket.selection";

  function clearSelections() {
    try {
      for (var i = window.sessionStorage.length - 1; i >= 0; i--) {
        var key = window.sessionStorage.key(i);
        if (key && key.indexOf(STORE) === 0) { window.sessionStorage.removeItem(key); }
      }
    } catch (e) { /* private mode */ }
  }

  function load(filterKey) {
    var state = null;
    try { state = JSON.parse(window.sessionStorage.getItem(STORE + owner) || "null"); } catch (e) { state = null; }
    if (!state || !Array.isArray(state.ids)) { state = { all: false, ids: [], excluded: [], filterKey: filterKey }; }
    if (state.all && state.filterKey !== filterKey) { state.all = false; state.excluded = []; }
    state.filterKey = filterKey;
    return state;
  }

  function save(state) {
    try { window.sessionStorage.setItem(STORE + owner, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }

  var owner = "";

  function bucket(form) {
    owner = "." + (form.getAttribute("data-owner") || "");
    var total = parseInt(form.getAttribute("data-total") || "0", 10);
    var state = load(form.getAttribute("data-filter-key") || "");
    var selectAll = form.querySelector("#select-all");
    var count = document.getElementById("selected-count");
    var offpage = document.getElementById("offpage");
    var lastIndex = null;

    // Inactive clients cannot be synced: their boxes are disabled and never picked.
    function picks() { return Array.prototype.slice.call(form.querySelectorAll("input.pick:not([disabled])")); }

    function hidden(name, value) {
      var input = document.createElement("input");
      input.type = "hidden"; input.name = name; input.value = value;
      return input;
    }

    function render() {
      var onPage = {};
      picks().forEach(function (box) {
        onPage[box.value] = true;
        box.checked = state.all ? state.excluded.indexOf(box.value) < 0 : state.ids.indexOf(box.value) >= 0;
      });
      if (selectAll) { selectAll.checked = state.all; }
      offpage.replaceChildren();
      if (state.all) {
        state.excluded.forEach(function (id) { offpage.appendChild(hidden("exclude_id", id)); });
      } else {
        state.ids.forEach(function (id) { if (!onPage[id]) { offpage.appendChild(hidden("client_id", id)); } });
      }
      var n = state.all ? Math.max(total - state.excluded.length, 0) : state.ids.length;
      var words = n === 1 ? "1 client selected" : n.toLocaleString("en-IN") + " clients selected";
      if (state.all) { words += " (all matching the filter" + (state.excluded.length ? ", minus " + state.excluded.length : "") + ")"; }
      count.textContent = n === 0 ? "No client selected" : words;
      save(state);
    }

    function setPick(box, on) {
      var list = state.all ? state.excluded : state.ids;
      var wanted = state.all ? !on : on;
      var at = list.indexOf(box.value);
      if (wanted && at < 0) { list.push(box.value); }
      if (!wanted && at >= 0) { list.splice(at, 1); }
    }

    // Capture phase: the selection is up to date before htmx posts the estimate.
    form.addEventListener("click", function (event) {
      var box = event.target;
      if (!(box instanceof HTMLInputElement) || !box.classList.contains("pick")) { return; }
      var all = picks();
      var index = all.indexOf(box);
      if (event.shiftKey && lastIndex !== null) {
        var from = Math.min(lastIndex, index), to = Math.max(lastIndex, index);
        for (var i = from; i <= to; i++) { setPick(all[i], box.checked); }
      } else {
        setPick(box, box.checked);
      }
      lastIndex = index;
      render();
    }, true);
    if (selectAll) {
      selectAll.addEventListener("change", function () {
        state.all = selectAll.checked;
        state.excluded = [];
        if (!state.all) { state.ids = []; }
        render();
      }, true);
    }
    var clear = document.getElementById("clear-selection");
    if (clear) {
      clear.addEventListener("click", function () {
        state = { all: false, ids: [], excluded: [], filterKey: state.filterKey };
        render();
        htmx.trigger(form.querySelector("[hx-post]"), "change");  // the estimate follows
      });
    }
    render();
  }

  function start() {
    document.querySelectorAll("[data-live]").forEach(liveProgress);
    var form = document.getElementById("bucket");
    if (form) { bucket(form); }
    if (document.querySelector("[data-clear-selection]")) { clearSelections(); }
    document.querySelectorAll("[data-select-all-modules]").forEach(function (box) {
      var boxes = document.querySelectorAll("input[name=sync_module]");
      function sync() {
        var on = 0; boxes.forEach(function (b) { if (b.checked) { on += 1; } });
        box.checked = on === boxes.length; box.indeterminate = on > 0 && on < boxes.length;
      }
      box.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = box.checked; });
      }, true);
      boxes.forEach(function (b) { b.addEventListener("change", sync); });
      sync();
    });
  }

  // A Sync Bucket restored from the back/forward cache after a Start would submit its old
  // idempotency key with a new selection (and get the earlier run back): draw it afresh.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.getElementById("bucket")) { window.location.reload(); }
  });

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
