// The report form, enhanced (without this script the place is typed or given as an
// address): the phone's position fills the place; a tap on the map fills it too, and the
// pin shows where.
(function () {
  "use strict";
  var lat = document.getElementById("lat");
  var lng = document.getElementById("lng");
  var map = document.getElementById("pick-map");

  function pin(latitude, longitude) {
    if (!map) { return; }
    var d = map.dataset;
    var x = (longitude - parseFloat(d.minLng)) * parseFloat(d.cos) * parseFloat(d.scale);
    var y = (parseFloat(d.maxLat) - latitude) * parseFloat(d.scale);
    var mark = map.querySelector(".pin");
    if (!mark) {
      mark = document.createElementNS("http://www.w3.org/2000/svg", "circle");
      mark.setAttribute("class", "pin");
      mark.setAttribute("r", (map.viewBox.baseVal.width / 120).toFixed(1));
      map.appendChild(mark);
    }
    mark.setAttribute("cx", x.toFixed(1));
    mark.setAttribute("cy", y.toFixed(1));
  }

  function put(latitude, longitude) {
    if (!lat || !lng) { return; }
    lat.value = latitude.toFixed(6);
    lng.value = longitude.toFixed(6);
    pin(latitude, longitude);
  }

  if (map) {
    map.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("a")) { return; }
      var point = map.createSVGPoint();
      point.x = event.clientX;
      point.y = event.clientY;
      var at = point.matrixTransform(map.getScreenCTM().inverse());
      var d = map.dataset;
      put(parseFloat(d.maxLat) - at.y / parseFloat(d.scale),
          parseFloat(d.minLng) + at.x / (parseFloat(d.cos) * parseFloat(d.scale)));
    });
  }

  var button = document.getElementById("locate");
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(function (where) {
        put(where.coords.latitude, where.coords.longitude);
        button.disabled = false;
      }, function () { button.disabled = false; }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }

  // A report sent without a connection waits in the phone (IndexedDB, photos included) and
  // leaves as soon as the phone is back online, with the form's own fields.
  var form = document.getElementById("report-form");
  var said = document.getElementById("drafts");

  function announce(text) { if (said) { said.textContent = text; } }

  function store() {
    return new Promise(function (ok, fail) {
      var opening = indexedDB.open("tinhso-reports", 1);
      opening.onupgradeneeded = function () {
        opening.result.createObjectStore("drafts", { keyPath: "id", autoIncrement: true });
      };
      opening.onsuccess = function () { ok(opening.result); };
      opening.onerror = function () { fail(opening.error); };
    });
  }

  function keep(entries) {
    return store().then(function (db) {
      return new Promise(function (ok, fail) {
        var tx = db.transaction("drafts", "readwrite");
        tx.objectStore("drafts").add({ entries: entries, at: Date.now() });
        tx.oncomplete = ok;
        tx.onerror = function () { fail(tx.error); };
      });
    });
  }

  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) { return c.indexOf(name + "=") === 0; })[0];
    return found ? decodeURIComponent(found.split("=")[1]) : "";
  }

  function sendWaiting() {
    if (!navigator.onLine || !window.indexedDB || !said) { return; }
    store().then(function (db) {
      var reading = db.transaction("drafts").objectStore("drafts").getAll();
      reading.onsuccess = function () {
        reading.result.forEach(function (draft) {
          var body = new FormData();
          draft.entries.forEach(function (pair) { body.append(pair[0], pair[1]); });
          body.set("checked", "1");
          body.set("csrfmiddlewaretoken", cookie("csrftoken"));
          fetch(said.dataset.action, { method: "POST", body: body, credentials: "same-origin" })
            .then(function (response) {
              if (response.redirected && response.url.indexOf("da-gui=1") > 0) {
                db.transaction("drafts", "readwrite").objectStore("drafts").delete(draft.id);
                said.innerHTML = "";
                var link = document.createElement("a");
                link.href = response.url;
                link.textContent = said.dataset.sent;
                said.appendChild(link);
              } else {
                announce(said.dataset.failed);
              }
            }).catch(function () { /* still offline: it waits */ });
        });
      };
    });
  }

  if (form && window.indexedDB) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }
      event.preventDefault();
      var entries = [];
      new FormData(form).forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken") { entries.push([name, value]); }
      });
      keep(entries).then(function () { announce(said.dataset.kept); });
    });
  }
  window.addEventListener("online", sendWaiting);
  sendWaiting();
}());
