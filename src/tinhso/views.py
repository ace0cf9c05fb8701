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
