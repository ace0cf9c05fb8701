// Progressive enhancement: on a narrow screen the main menu folds behind a "Menu" button.
// Without JavaScript the menu is simply shown in full.
(function () {
  "use strict";
  var nav = document.getElementById("main-menu");
  var button = document.getElementById("menu-button");
  if (!nav || !button) return;
  var narrow = window.matchMedia("(max-width: 47.99rem)");
  function fold(closed) {
    button.setAttribute("aria-expanded", closed ? "false" : "true");
    nav.hidden = closed;
  }
  function apply() {
    button.hidden = !narrow.matches;
    fold(narrow.matches);
  }
  button.addEventListener("click", function () {
    fold(button.getAttribute("aria-expanded") === "true");
  });
  if (narrow.addEventListener) narrow.addEventListener("change", apply);
  apply();
})();

// The phone web app: the service worker keeps the offline page and the report form.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js").catch(function () {});
}
