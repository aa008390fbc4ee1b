/* The agents' desk: keyboard shortcuts, the queue's cursor and selection,
   and saving a field as soon as its select changes.

   Everything here is an enhancement: every action is also a plain form.
   Loaded with `defer` after htmx, so `window.htmx` is ready when this runs. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("desk-js");

  if (window.htmx) {
    // Let a 400 answer (a form with its errors) replace the form, as a page load would.
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false }
    ];
  }

  // Per queue and filter: a reload (or a bulk action) keeps the place, another queue starts afresh.
  var CURSOR_KEY = "desk-cursor:" + location.pathname + location.search;
  var selected = new Set();
  var cursorId = null;
  try { cursorId = sessionStorage.getItem(CURSOR_KEY); } catch (e) { /* private mode */ }

  function rows() {
    var body = document.getElementById("queue-rows");
    return body ? Array.prototype.slice.call(body.querySelectorAll("tr[data-ticket]")) : [];
  }

  function cursorRow() {
    return rows().find(function (row) { return row.dataset.ticket === cursorId; }) || null;
  }

  function setCursor(row, focus) {
    rows().forEach(function (r) { r.classList.remove("is-cursor"); });
    if (!row) { return; }
    row.classList.add("is-cursor");
    cursorId = row.dataset.ticket;
    try { sessionStorage.setItem(CURSOR_KEY, cursorId); } catch (e) { /* ignore */ }
    row.scrollIntoView({ block: "nearest" });
    if (focus) {
      var link = row.querySelector(".desk-queue__title a");
      if (link) { link.focus({ preventScroll: true }); }
    }
  }

  function moveCursor(step) {
    var all = rows();
    if (!all.length) { return; }
    var index = all.indexOf(cursorRow());
    var next = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
    setCursor(all[next], true);
  }

  function syncSelection() {
    var boxes = rows().map(function (row) { return row.querySelector("input[name='tickets']"); });
    boxes.forEach(function (box) {
      if (!box) { return; }
      box.checked = selected.has(box.value);
      box.closest("tr").classList.toggle("is-selected", box.checked);
    });
    var bulk = document.getElementById("bulk");
    var count = document.querySelector("[data-bulk-count]");
    if (bulk) { bulk.classList.toggle("has-selection", selected.size > 0); }
    if (count) {
      count.textContent = selected.size
        ? selected.size + " selected:"
        : "Select tickets to change them together";
    }
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.hidden = false;
      var ticked = boxes.filter(function (box) { return box && box.checked; }).length;
      all.checked = ticked > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }

  function readSelection() {
    // The server renders the boxes it was told are ticked (and the browser
    // may restore them on back): start from what the page shows.
    rows().forEach(function (row) {
      var box = row.querySelector("input[name='tickets']");
      if (box && box.checked) { selected.add(box.value); }
    });
  }

  function toggle(row) {
    var box = row && row.querySelector("input[name='tickets']");
    if (!box) { return; }
    if (selected.has(box.value)) { selected.delete(box.value); } else { selected.add(box.value); }
    syncSelection();
  }

  function afterRows() {
    // A ticket that left the queue (solved elsewhere) leaves the selection too.
    var present = new Set(rows().map(function (row) { return row.dataset.ticket; }));
    selected.forEach(function (id) { if (!present.has(id)) { selected.delete(id); } });
    syncSelection();
    var row = cursorRow();
    if (row) { row.classList.add("is-cursor"); }
  }

  function quickAssign() {
    var row = cursorRow();
    var form = document.getElementById("quick-assign");
    if (!row || !form) { return; }
    form.querySelector("[data-quick-ticket]").value = row.dataset.ticket;
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function isTyping(target) {
    if (!target || !target.closest) { return false; }
    if (target.isContentEditable) { return true; }
    var field = target.closest("input, textarea, select, [contenteditable]");
    if (!field) { return false; }
    var type = (field.getAttribute("type") || "").toLowerCase();
    // A ticked checkbox or a radio button does not take text: shortcuts stay on.
    return !(field.tagName === "INPUT" && (type === "checkbox" || type === "radio"));
  }

  function toggleHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (!dialog) { return; }
    if (dialog.open) { dialog.close(); } else if (dialog.showModal) { dialog.showModal(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
      return;
    }
    if (isTyping(event.target)) { return; }
    var help = document.getElementById("shortcut-help");
    if (help && help.open && event.key !== "?") { return; }
    var onQueue = !!document.getElementById("queue-rows");
    var key = event.key;
    if (key === "?") { event.preventDefault(); toggleHelp(); return; }
    if (key === "/") {
      var search = document.querySelector("[data-desk-search]");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (key === "r") {
      var reply = document.getElementById("reply-body");
      if (reply) {
        event.preventDefault();
        reply.scrollIntoView({ block: "center" });
        reply.focus();
      }
      return;
    }
    if (!onQueue) {
      if (key === "a") {
        var mine = document.querySelector("#ticket-details input[name='field'][value='assignee'] ~ button");
        if (mine) { event.preventDefault(); mine.click(); }
      }
      return;
    }
    if (key === "j") { event.preventDefault(); moveCursor(1); return; }
    if (key === "k") { event.preventDefault(); moveCursor(-1); return; }
    if (key === "x") { event.preventDefault(); toggle(cursorRow()); return; }
    if (key === "a") { event.preventDefault(); quickAssign(); return; }
    if (key === "o" || key === "Enter") {
      // Enter on a focused link or button does its own thing.
      if (key === "Enter" && event.target.closest && event.target.closest("a, button")) { return; }
      var row = cursorRow();
      if (row) { event.preventDefault(); location.href = row.dataset.url; }
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("#queue-rows input[name='tickets']")) {
      if (target.checked) { selected.add(target.value); } else { selected.delete(target.value); }
      setCursor(target.closest("tr"), false);
      syncSelection();
      return;
    }
    if (target.matches && target.matches("[data-select-all]")) {
      rows().forEach(function (row) {
        var box = row.querySelector("input[name='tickets']");
        if (!box) { return; }
        if (target.checked) { selected.add(box.value); } else { selected.delete(box.value); }
      });
      syncSelection();
      return;
    }
    var form = target.closest && target.closest("form[data-autosubmit]");
    if (form && (target.tagName === "SELECT" || target.type === "checkbox")) {
      form.classList.add("is-saving");
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  });

  function closeMenus(except) {
    document.querySelectorAll("details.desk-menu[open], details.desk-popover[open]").forEach(
      function (menu) { if (menu !== except) { menu.open = false; } }
    );
  }

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#queue-rows tr[data-ticket]");
    if (row && !event.target.closest("a, input, button, label")) { setCursor(row, false); }
    closeMenus(event.target.closest && event.target.closest("details.desk-menu, details.desk-popover"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeMenus(null); }
  });

  // A poll after the session ended gets the sign-in page: go there, do not put it in the table.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var url = event.detail.xhr && event.detail.xhr.responseURL;
    if (url && url.indexOf("/accounts/login/") !== -1) {
      event.detail.shouldSwap = false;
      location.reload();
    }
  });

  // The queue's rows come back every 30 seconds and after a quick action:
  // keep the ticked boxes and the cursor where they were.
  document.body.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "queue-rows") { afterRows(); }
    var flash = document.getElementById("desk-flash");
    if (flash && flash.children.length) {
      window.clearTimeout(flash._deskTimer);
      flash._deskTimer = window.setTimeout(function () { flash.replaceChildren(); }, 6000);
    }
  });
  readSelection();
  afterRows();
})();
