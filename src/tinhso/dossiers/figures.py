"""The dossier figures of an agency set and a period: received, finished early / on time /
late, in progress, overdue and paused at the end of the period, the on-time rate, by
channel, and the satisfaction ratings. Declared to the indicator registry (core.indicators)
by DossiersConfig.ready(); GET /api/v1/figures shows them at its top level.

`dossier_figures` sums the daily rollups the events keep (dossiers.rollups, ADR 0026): a
few rows per agency whatever the period or the number of dossiers. `dossier_figures_direct`
computes the same figures by scanning the dossiers and their history: the reference the
tests and the benchmark check the rollups against (and what the figures cost before)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Avg, Count, OuterRef, Q, Subquery
from ninja import Schema

from tinhso.core.indicators import (
    Dimension,
    FigureSet,
    FigureValue,
    Indicator,
    Scope,
    Timeliness,
    Unit,
    timeliness,
)
from tinhso.dossiers.models import Dossier, DossierEvent, DossierStatus, Rating
from tinhso.dossiers.rollups import OPEN, PAUSED, rollup_totals

CHANNEL = Dimension("channel", ("counter", "online", "post"))

INDICATORS = (
    Indicator("received", "Hồ sơ tiếp nhận", "Dossiers received", Unit.DOSSIERS),
    Indicator(
        "received_by_channel",
        "Hồ sơ tiếp nhận theo kênh",
        "Dossiers received by channel",
        Unit.DOSSIERS,
        (CHANNEL,),
    ),
    Indicator("finished", "Hồ sơ đã giải quyết", "Dossiers finished", Unit.DOSSIERS),
    Indicator("finished_early", "Hồ sơ giải quyết trước hạn", "Finished early", Unit.DOSSIERS),
    Indicator("finished_on_time", "Hồ sơ giải quyết đúng hạn", "Finished on time", Unit.DOSSIERS),
    Indicator("finished_late", "Hồ sơ giải quyết quá hạn", "Finished late", Unit.DOSSIERS),
    Indicator(
        "on_time_rate",
        "Tỷ lệ giải quyết đúng hạn (kể cả trước hạn)",
        "Share finished on time (early included)",
        Unit.RATIO,
    ),
    Indicator(
        "in_progress",
        "Hồ sơ đang giải quyết cuối kỳ",
        "In progress at the end of the period",
        Unit.DOSSIERS,
    ),
    Indicator(
        "overdue", "Hồ sơ quá hạn cuối kỳ", "Overdue at the end of the period", Unit.DOSSIERS
    ),
    Indicator("paused", "Hồ sơ tạm dừng cuối kỳ", "Paused at the end of the period", Unit.DOSSIERS),
    Indicator("ratings", "Lượt đánh giá mức độ hài lòng", "Satisfaction ratings", Unit.RATINGS),
    Indicator(
        "satisfaction_average", "Mức độ hài lòng trung bình", "Average satisfaction", Unit.SCORE
    ),
)


class ChannelsOut(Schema):
    counter: int
    online: int
    post: int


class DossierFiguresOut(Schema):
    received: int
    received_by_channel: ChannelsOut
    finished: int
    finished_early: int
    finished_on_time: int
    finished_late: int
    on_time_rate: float | None
    in_progress: int
    overdue: int
    paused: int
    ratings: int
    satisfaction_average: float | None


def dossier_figures(scope: Scope) -> Mapping[str, FigureValue]:
    """The dossier figures of the dossiers received by an agency of `scope`, from the
    rollups."""
    totals = rollup_totals(scope)
    flows, stocks = totals.flows, totals.stocks
    early, on_time, late = (
        flows["finished_early"],
        flows["finished_on_time"],
        flows["finished_late"],
    )
    done = early + on_time + late
    ratings = flows["ratings"]
    return {
        "received": flows["received"],
        "received_by_channel": {
            "counter": flows["received_counter"],
            "online": flows["received_online"],
            "post": flows["received_post"],
        },
        "finished": done,
        "finished_early": early,
        "finished_on_time": on_time,
        "finished_late": late,
        "on_time_rate": round((early + on_time) / done, 4) if done else None,
        "in_progress": stocks["in_progress"],
        "overdue": stocks["overdue"],
        "paused": stocks["paused"],
        "ratings": ratings,
        "satisfaction_average": flows["rating_points"] / ratings if ratings else None,
    }


def dossier_figures_direct(scope: Scope) -> Mapping[str, FigureValue]:
    """The same figures computed from the dossiers and their history (a scan)."""
    begin, finish = scope.begin, scope.finish
    dossiers = Dossier.objects.filter(scope.agencies.within("receiving_agency"))
    events = DossierEvent.objects.filter(dossier__in=dossiers, at__gte=begin, at__lte=finish)
    received = events.filter(
        to_status=DossierStatus.ACCEPTED, from_status__lt=DossierStatus.ACCEPTED
    )
    by_channel = dict(
        received.values_list("dossier__channel")
        .annotate(n=Count("id"))
        .values_list("dossier__channel", "n")
    )
    counts = dict.fromkeys(Timeliness, 0)
    finished = events.filter(to_status=DossierStatus.FINISHED)
    for at, due in finished.values_list("at", "dossier__due_at"):
        # A dossier without a due time (never accepted) could not be late: early.
        counts[timeliness(at, due) or Timeliness.EARLY] += 1
    early, on_time, late = (counts[t] for t in Timeliness)
    # Where each dossier stood at the end of the period: its last event up to then.
    last_status = (
        DossierEvent.objects.filter(dossier=OuterRef("pk"), at__lte=finish)
        .order_by("-at", "-id")
        .values("to_status")[:1]
    )
    standing = dossiers.annotate(last=Subquery(last_status))
    in_progress = standing.filter(last__in=sorted(OPEN))
    done = early + on_time + late
    ratings = Rating.objects.filter(
        dossier__in=dossiers, created_at__gte=begin, created_at__lte=finish
    )
    return {
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
        "overdue": in_progress.exclude(last__in=sorted(PAUSED))
        .filter(Q(due_at__lt=finish))
        .count(),
        "paused": standing.filter(last__in=sorted(PAUSED)).count(),
        "ratings": ratings.count(),
        "satisfaction_average": ratings.aggregate(a=Avg("score"))["a"],
    }


FIGURES = FigureSet(
    module="dossiers", indicators=INDICATORS, compute=dossier_figures, schema=DossierFiguresOut
)
