// The quick exit, where scripts run: the link leaves without a trace in this tab's history
// (Back does not return here), and Escape does the same from anywhere on the page. Without a
// script the link still leaves; only Back would return.
(function () {
  "use strict";
  var link = document.querySelector("a[data-quick-exit]");
  if (!link) { return; }
  var target = link.href;
  // In a text field Escape also cancels or clears (an IME, suggestions, a search box): there it
  // takes two presses within this time, so one stray press cannot throw away a written report.
  var TWICE_WITHIN_MS = 1000;
  var lastEscapeInField = 0;

  function leave(event) {
    if (event) { event.preventDefault(); }
    // Take the page off the screen at once, before the other site has loaded.
    document.title = "";
    document.body.textContent = "";
    window.location.replace(target);
  }

  function isTextField(element) {
    if (!element) { return false; }
    if (element.isContentEditable) { return true; }
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
    if (tag !== "INPUT") { return false; }
    return ["button", "checkbox", "radio", "reset", "submit", "image", "file", "color", "range"]
      .indexOf(element.type) === -1;
  }

  link.setAttribute("aria-keyshortcuts", "Escape");
  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.isComposing) { return; }
    if (isTextField(document.activeElement)) {
      var now = Date.now();
      if (now - lastEscapeInField > TWICE_WITHIN_MS) {
        lastEscapeInField = now;
        return;
      }
    }
    leave(event);
  });
})();
