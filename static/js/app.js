/* OKR platform — the little behaviour the server-rendered pages need (D7).
   No inline scripts anywhere: everything hooks in from here. */
(function () {
  "use strict";

  function toast(text, kind) {
    var box = document.getElementById("toasts");
    if (!box || !text) return;
    var el = document.createElement("div");
    el.className = "alert " + (kind || "success");
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 6000);
  }

  function openDialogs(root) {
    root = root || document;
    // htmx:load fires on the inserted element itself, which may be the dialog.
    var dialogs = Array.prototype.slice.call(root.querySelectorAll("dialog[data-open]"));
    if (root.matches && root.matches("dialog[data-open]")) dialogs.push(root);
    dialogs.forEach(function (dialog) {
      if (!dialog.open) dialog.showModal();
      var first = dialog.querySelector("[autofocus], input:not([type=hidden]), select, textarea");
      if (first) first.focus();
    });
  }

  function wire(root) {
    (root || document).querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.wired) return;
      select.dataset.wired = "1";
      select.addEventListener("change", function () { select.form.submit(); });
    });
    (root || document).querySelectorAll("input[type=range][data-output]").forEach(function (range) {
      if (range.dataset.wired) return;
      range.dataset.wired = "1";
      var output = document.getElementById(range.dataset.output);
      var update = function () { if (output) output.textContent = range.value; };
      range.addEventListener("input", update);
      update();
    });
    openDialogs(root);
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:load", function (event) { wire(event.target); });

  // Close buttons and Escape remove the dialog entirely, so the next one starts fresh.
  document.addEventListener("click", function (event) {
    var closer = event.target.closest("[data-close-dialog]");
    if (!closer) return;
    event.preventDefault();
    var dialog = closer.closest("dialog");
    if (dialog) { dialog.close(); dialog.remove(); }
  });
  // Forms that undo something ask first (e.g. revoking an API token).
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
  // A secret shown once is selected on focus, ready to copy.
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("input[data-select-on-focus]")) event.target.select();
  });
  document.addEventListener("close", function (event) {
    if (event.target.tagName === "DIALOG" && event.target.closest("#dialog-slot")) event.target.remove();
  }, true);

  // The server says what happened in an HX-Trigger header: {"okr:toast": "Saved"}.
  document.addEventListener("okr:toast", function (event) {
    var detail = event.detail || {};
    toast(detail.value || detail.message, detail.kind);
  });
  document.addEventListener("htmx:responseError", function (event) {
    var body = document.body.dataset;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    toast(status === 403 ? body.forbiddenMessage : body.errorMessage, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.body.dataset.errorMessage, "error");
  });
})();
