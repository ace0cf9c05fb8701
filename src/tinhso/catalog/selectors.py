"""Reads of the catalogue: accent-insensitive search ranked by relevance."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

from django.db.models import Q, QuerySet

from tinhso.agencies.models import Agency, AgencyLevel
from tinhso.catalog.models import Procedure, ProcedureField, ProcedureLevel, SearchSynonym
from tinhso.catalog.services import SEARCH_SEPARATOR
from tinhso.core.text import search_form


@dataclass(frozen=True)
class ProcedureFilters:
    q: str = ""
    field: str | None = None
    agency: Agency | None = None
    level: str | None = None
    online_level: str | None = None


def _filtered(filters: ProcedureFilters, phrase: str | None = None) -> QuerySet[Procedure]:
    qs = Procedure.objects.filter(is_active=True)
    for word in (search_form(filters.q) if phrase is None else phrase).split():
        qs = qs.filter(search_text__contains=word)
    if filters.field:
        qs = qs.filter(field__code=filters.field)
    if filters.level:
        qs = qs.filter(level__in=[filters.level, ProcedureLevel.BOTH])
    if filters.online_level:
        qs = qs.filter(online_level=filters.online_level)
    if filters.agency is not None:
        if filters.agency.level == AgencyLevel.COMMUNE:
            qs = qs.filter(level__in=[ProcedureLevel.COMMUNE, ProcedureLevel.BOTH])
        else:
            qs = qs.filter(
                Q(implementing_agency__path__startswith=filters.agency.path)
                | Q(implementing_agency=filters.agency)
            )
    return qs


def _score(code: str, name: str, phrase: str, words: list[str]) -> tuple[float, int]:
    score = 0.0
    if code.lower() == phrase:
        score += 1000
    if name == phrase or name == "thu tuc " + phrase:
        score += 200
    position = name.find(phrase)
    if position >= 0:
        # The whole phrase in the name, the nearer the start the better.
        score += 100 - min(position, 60)
    name_words = set(name.split())
    score += 10 * sum(1 for w in words if w in name_words)
    score += 3 * sum(1 for w in words if w in name and w not in name_words)
    return (-score, len(name))


class RankedProcedures(Sequence[Procedure]):
    """Search results in rank order. Ranking reads only ids, codes and folded names; whole
    procedures are loaded for the slice that is shown (a page), so a query that matches
    hundreds stays cheap. Works with Django's Paginator and plain slicing. `corrected` is
    the query the results answer when it is not what was typed ("khai sinh" for "khai
    sihn"): the page says so ("did you mean")."""

    def __init__(self, ids: list[int], corrected: str = "") -> None:
        self.ids = ids
        self.corrected = corrected

    def __len__(self) -> int:
        return len(self.ids)

    def count(self) -> int:  # type: ignore[override]  # Paginator prefers count()
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> Procedure: ...

    @overload
    def __getitem__(self, index: slice) -> list[Procedure]: ...

    def __getitem__(self, index: int | slice) -> Procedure | list[Procedure]:
        if isinstance(index, int):
            return self._load([self.ids[index]])[0]  # IndexError as a list would
        return self._load(self.ids[index])

    @staticmethod
    def _load(ids: list[int]) -> list[Procedure]:
        found = (
            Procedure.objects.select_related("field", "implementing_agency")
            .defer("form_schema", "legal_basis", "search_text", "time_note")
            .in_bulk(ids)
        )
        return [found[pk] for pk in ids if pk in found]


def procedure_search(filters: ProcedureFilters) -> RankedProcedures:
    """Procedures matching every word of the query (diacritics, case and the i/y spelling
    ignored), best first: an exact code, the phrase at the start of the name, then words in
    the name. What people type for a procedure is read as the catalogue's words (its
    synonyms: "giấy khai sinh"); a query that finds nothing is tried again with its words
    corrected to the catalogue's vocabulary ("khai sihn", "khaisinh")."""
    phrase = _with_synonyms(search_form(filters.q))
    ranked = _ranked(filters, phrase)
    if ranked or not phrase:
        return RankedProcedures(ranked)
    corrected = _corrected(phrase)
    if corrected == phrase:
        return RankedProcedures([])
    return RankedProcedures(_ranked(filters, corrected), corrected=corrected)


def _ranked(filters: ProcedureFilters, phrase: str) -> list[int]:
    qs = _filtered(filters, phrase)
    if not phrase:
        return list(qs.order_by("name").values_list("id", flat=True))
    words = phrase.split()
    rows = qs.values_list("id", "code", "search_text")
    ranked = sorted(
        rows, key=lambda r: _score(r[1], r[2].split(SEARCH_SEPARATOR, 1)[0], phrase, words)
    )
    return [r[0] for r in ranked]


def _with_synonyms(phrase: str) -> str:
    """The phrase with what people type replaced by the catalogue's words (longest first)."""
    if not phrase:
        return phrase
    padded = f" {phrase} "
    for synonym in sorted(
        SearchSynonym.objects.values_list("phrase", "means"), key=lambda s: -len(s[0])
    ):
        padded = padded.replace(f" {synonym[0]} ", f" {synonym[1]} ")
    return padded.strip()


def _vocabulary() -> set[str]:
    """The words of the active procedures' names (in search form)."""
    names = Procedure.objects.filter(is_active=True).values_list("search_text", flat=True)
    return {word for text in names for word in text.split(SEARCH_SEPARATOR, 1)[0].split()}


def _corrected(phrase: str) -> str:
    """Each word the catalogue does not use replaced by the closest one it uses, or split in
    two it uses ("khaisinh" → "khai sinh"); codes and numbers are left alone."""
    vocabulary = _vocabulary()
    words = []
    for word in phrase.split():
        if word in vocabulary or any(ch.isdigit() for ch in word):
            words.append(word)
            continue
        split = next(
            (
                f"{word[:i]} {word[i:]}"
                for i in range(2, len(word) - 1)
                if word[:i] in vocabulary and word[i:] in vocabulary
            ),
            None,
        )
        if split is not None:
            words.append(split)
            continue
        close = difflib.get_close_matches(word, vocabulary, n=1, cutoff=0.75)
        words.append(close[0] if close else word)
    return " ".join(words)


def procedure_get(*, code: str) -> Procedure | None:
    return (
        Procedure.objects.select_related("field", "implementing_agency")
        .prefetch_related("papers")
        .filter(code=code, is_active=True)
        .first()
    )


def fields_with_counts() -> QuerySet[ProcedureField]:
    from django.db.models import Count

    return ProcedureField.objects.annotate(
        n=Count("procedures", filter=Q(procedures__is_active=True))
    ).filter(n__gt=0)


_RECEIVED_CENTRALLY = (ProcedureLevel.PROVINCE, ProcedureLevel.BOTH)
_RECEIVED_IN_COMMUNES = (ProcedureLevel.COMMUNE, ProcedureLevel.BOTH)


def receiving_agencies_for(procedure: Procedure) -> list[Agency]:
    """Where a dossier of this procedure can be submitted: the province's service centre for
    province-level procedures, the People's Committee of any commune for commune-level ones."""
    agencies: list[Agency] = []
    if procedure.level in _RECEIVED_CENTRALLY:
        agencies += list(Agency.objects.filter(kind="service_centre", is_active=True))
    if procedure.level in _RECEIVED_IN_COMMUNES:
        agencies += list(
            Agency.objects.filter(level=AgencyLevel.COMMUNE, is_active=True).order_by(
                "admin_unit_name"
            )
        )
    return agencies


def receives(agency: Agency, procedure: Procedure) -> bool:
    """Whether `agency` is among `receiving_agencies_for(procedure)`, from the two rows alone
    (a submission checks the one agency it names without loading the province's list)."""
    if not agency.is_active:
        return False
    if procedure.level in _RECEIVED_CENTRALLY and agency.kind == "service_centre":
        return True
    return procedure.level in _RECEIVED_IN_COMMUNES and agency.level == AgencyLevel.COMMUNE


def procedures_received_by(agencies: Sequence[Agency]) -> list[Procedure]:
    """The active procedures whose dossiers any of `agencies` receives (the counter's list),
    by field and name."""
    levels: set[str] = set()
    if any(a.kind == "service_centre" for a in agencies):
        levels |= {ProcedureLevel.PROVINCE, ProcedureLevel.BOTH}
    if any(a.level == AgencyLevel.COMMUNE for a in agencies):
        levels |= {ProcedureLevel.COMMUNE, ProcedureLevel.BOTH}
    if not levels:
        return []
    return list(
        Procedure.objects.filter(is_active=True, level__in=levels)
        .select_related("field")
        .only("code", "name", "field__name")
        .order_by("field__name", "name")
    )
