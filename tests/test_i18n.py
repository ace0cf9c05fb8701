"""The Vietnamese catalogue is complete and its compiled file matches it."""

from pathlib import Path

import polib

import tinhso

CATALOG = Path(tinhso.__file__).parent / "locale" / "vi" / "LC_MESSAGES"


def test_every_message_has_a_vietnamese_translation() -> None:
    po = polib.pofile(str(CATALOG / "django.po"))
    assert len(po) > 100
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    po = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural)
        for e in polib.pofile(str(CATALOG / "django.po"))
    }
    mo = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural)
        for e in polib.mofile(str(CATALOG / "django.mo"))
    }
    assert mo == po, "run `make messages` to recompile django.mo"
