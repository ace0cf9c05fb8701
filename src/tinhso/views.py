"""The portal's home page: it shows what every module offers, so it lives at the
composition root, beside urls.py, and may read any module."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from tinhso.agencies.selectors import agency_counts
from tinhso.catalog.models import OnlineLevel, Procedure
from tinhso.catalog.selectors import fields_with_counts
from tinhso.dossiers.selectors import most_used_procedure_ids

# Services by life event (as the national portal groups them): what a person lives through,
# and the words that find its procedures in the catalogue.
LIFE_EVENTS = (
    (_("Having a baby"), "khai sinh"),
    (_("Getting married"), "kết hôn"),
    (_("Building a house"), "xây dựng"),
    (_("Starting a business"), "kinh doanh"),
    (_("Where you live"), "cư trú"),
    (_("Certified copies"), "chứng thực"),
    (_("Land"), "đất đai"),
    (_("When someone dies"), "khai tử"),
)
MOST_USED = 6


def _most_used() -> list[Procedure]:
    """The procedures most submitted lately; on a new installation, fully online ones."""
    ids = most_used_procedure_ids(limit=MOST_USED)
    found = Procedure.objects.filter(pk__in=ids, is_active=True).only("code", "name").in_bulk()
    chosen = [found[i] for i in ids if i in found]
    if len(chosen) < MOST_USED:
        chosen += list(
            Procedure.objects.filter(is_active=True, online_level=OnlineLevel.FULL)
            .exclude(pk__in=[p.pk for p in chosen])
            .only("code", "name")
            .order_by("name")[: MOST_USED - len(chosen)]
        )
    return chosen


def home(request: HttpRequest) -> HttpResponse:
    procedures = Procedure.objects.filter(is_active=True).count()
    return render(
        request,
        "home.html",
        {
            "counts": agency_counts(),
            "procedures": procedures,
            "most_used": _most_used(),
            "life_events": LIFE_EVENTS,
            "fields": fields_with_counts(),
        },
    )


# --- The phone web app (installable: manifest, service worker, offline page) ---------------


def web_manifest(request: HttpRequest) -> HttpResponse:
    """The Web App Manifest: installable from a phone's browser, opening on the home page,
    with a shortcut to report a problem."""
    import json

    from django.templatetags.static import static
    from django.urls import reverse
    from django.utils.translation import gettext as _g

    from tinhso.core.context_processors import portal_identity

    province = portal_identity()["province"]
    body = {
        "name": _g("Public services of %(province)s") % {"province": province}
        if province
        else "Tỉnh Số",
        "short_name": _g("Public services") if province else "Tỉnh Số",
        "lang": request.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#8b1117",
        "icons": [
            {"src": static(f"img/icon-{n}.png"), "sizes": f"{n}x{n}", "type": "image/png",
             "purpose": "any maskable"}
            for n in (192, 512)
        ],
        "shortcuts": [{"name": _g("Report a problem"), "url": reverse("feedback:new")}],
    }  # fmt: skip
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type="application/manifest+json"
    )


SERVICE_WORKER = """
// Tỉnh Số's service worker: the offline page and the static files are kept; pages are
// asked of the network first; the report form, once opened, also opens offline (a report
// written offline waits in the phone and leaves when it is back online: static/feedback).
const CACHE = "tinhso-%(version)s";
const OFFLINE = "%(offline)s";
const KEEP = %(keep)s;
const FORMS = "%(forms)s";
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([OFFLINE, ...KEEP]))
    .then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))
  )).then(() => self.clients.claim()));
});
self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).then((response) => {
      if (response.ok && url.pathname.startsWith(FORMS)) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    }).catch(() => caches.match(request).then((kept) => kept || caches.match(OFFLINE))));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(request).then((kept) => kept || fetch(request)));
  }
});
"""


def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js, at the site's root so that it serves every page."""
    import json

    from django.templatetags.static import static
    from django.urls import reverse

    from tinhso import __version__

    keep = [static(p) for p in ("css/site.css", "js/menu.js", "feedback/report.js",
                                "img/icon-192.png")]  # fmt: skip
    script = SERVICE_WORKER % {
        "version": __version__, "offline": reverse("offline"), "keep": json.dumps(keep),
        "forms": reverse("feedback:new"),
    }  # fmt: skip
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def offline(request: HttpRequest) -> HttpResponse:
    """What a page opened without a connection shows (kept by the service worker)."""
    return render(request, "offline.html")
