"""Procedure names are indexed in the spelling queries use (core.text.search_form: a final
y after a consonant as i), so "dang ki khai sinh" finds "Đăng ký khai sinh"."""

import re
import unicodedata

from django.db import migrations

_SPACES = re.compile(r"\s+")
_VOWELS = frozenset("aeiouy")


def _fold(text):  # type: ignore[no-untyped-def]
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped).strip().lower()


def _search_form(text):  # type: ignore[no-untyped-def]
    return " ".join(
        w[:-1] + "i" if len(w) >= 2 and w[-1] == "y" and w[-2] not in _VOWELS else w
        for w in _fold(text).split(" ")
    )


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    Procedure = apps.get_model("catalog", "Procedure")
    for procedure in Procedure.objects.select_related("field"):
        procedure.search_text = (
            _search_form(procedure.name) + " | " + _fold(f"{procedure.code} {procedure.field.name}")
        )
        procedure.save(update_fields=["search_text"])


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_search_synonyms")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
