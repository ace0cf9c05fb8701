"""Figures per agency and period, computed from the dossier events (what happened, when),
never from counters that can drift: received, finished early / on time / late, in
progress, overdue and paused at the end of the period, the on-time rate, by channel."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import Avg, Count, OuterRef, Q, Subquery
from django.utils import timezone

from tinhso.agencies.models import Agency
from tinhso.dossiers.models import Dossier, DossierEvent, DossierStatus, Rating

OPEN = [
    DossierStatus.ACCEPTED, DossierStatus.PROCESSING, DossierStatus.SUPPLEMENT_REQUESTED,
    DossierStatus.PAYMENT_REQUESTED,
]  # fmt: skip
PAUSED = [DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.PAYMENT_REQUESTED]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end, time.max, tz)


def payment_figures(agency: Agency, begin: datetime, finish: datetime) -> dict[str, Any]:
    from tinhso.payments.figures import payment_figures as figures

    return figures(agency, begin, finish)


def agency_figures(agency: Agency, start: date, end: date) -> dict[str, Any]:
    begin, finish = _bounds(start, end)
    dossiers = Dossier.objects.filter(receiving_agency__path__startswith=agency.path)
    events = DossierEvent.objects.filter(dossier__in=dossiers, at__gte=begin, at__lte=finish)
    received = events.filter(
        to_status=DossierStatus.ACCEPTED, from_status__lt=DossierStatus.ACCEPTED
    )
    by_channel = dict(
        received.values_list("dossier__channel")
        .annotate(n=Count("id"))
        .values_list("dossier__channel", "n")
    )
    early = on_time = late = 0
    finished = events.filter(to_status=DossierStatus.FINISHED).select_related("dossier")
    for event in finished:
        due = event.dossier.due_at
        if due is not None and event.at > due:
            late += 1
        elif due is not None and timezone.localdate(event.at) == timezone.localdate(due):
            on_time += 1
        else:
            early += 1
    # Where each dossier stood at the end of the period: its last event up to then.
    last_status = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), at__lte=finish)
        .order_by("-at", "-id")
        .values("to_status")[:1]
    )
    standing = dossiers.annotate(last=Subquery(last_status))
    in_progress = standing.filter(last__in=OPEN)
    done = early + on_time + late
    ratings = Rating.objects.filter(
        dossier__in=dossiers, created_at__gte=begin, created_at__lte=finish
    )
    return {
        "agency": agency.code,
        "start": start,
        "end": end,
        "received": received.count(),
        "received_by_channel": {
            "counter": by_channel.get(1, 0),
            "online": by_channel.get(2, 0),
            "post": by_channel.get(3, 0),
        },
        "finished": done,
        "finished_early": early,
        "finished_on_time": on_time,
        "finished_late": late,
        "on_time_rate": round((early + on_time) / done, 4) if done else None,
        "in_progress": in_progress.count(),
        "overdue": in_progress.exclude(last__in=PAUSED).filter(Q(due_at__lt=finish)).count(),
        "paused": standing.filter(last__in=PAUSED).count(),
        "ratings": ratings.count(),
        "satisfaction_average": ratings.aggregate(a=Avg("score"))["a"],
        "payments": payment_figures(agency, begin, finish),
    }
