// The stamp page: the scanner may share a coarse place (rounded to about a kilometre),
// which helps the market inspectors find copied stamps. Without this script nothing is
// shared and the page is complete.
(function () {
  "use strict";
  var form = document.getElementById("share-place");
  if (!form || !("geolocation" in navigator) || !window.fetch) return;
  form.hidden = false;
  var status = form.querySelector("[role=status]");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lat.value = position.coords.latitude.toFixed(2);
      form.elements.lng.value = position.coords.longitude.toFixed(2);
      fetch(window.location.pathname, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (text) { status.textContent = text; form.querySelector("button").disabled = true; });
    }, function () { status.textContent = form.dataset.denied || ""; }, { maximumAge: 600000, timeout: 15000 });
  });
})();
