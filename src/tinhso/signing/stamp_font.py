"""The visible stamp's font, parsed once per process (ADR 0024).

pyHanko's `GlyphAccumulator` parses the font file for every stamp, then cuts a subset of
it (keeping glyph ids) and writes it: together half of a signature's work. This engine is
that accumulator over a face parsed once (`_Face`, read-only afterwards, so threads may
share it), and the font program it embeds is cut once per set of glyphs and kept: every
stamp's subset holds the printable ASCII letters, whatever the stamp says (the random
verification address, the digits of the time), plus its other glyphs (the signer's name
and agency), so the stamps of one signer share one subset. Shaping stays HarfBuzz's.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path
from typing import Any

import uharfbuzz as hb
from fontTools import subset as ft_subset
from fontTools import ttLib
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory
from pyhanko.pdf_utils.font.opentype import CIDFontType2, GlyphAccumulator
from pyhanko.pdf_utils.writer import BasePdfFileWriter

SUBSETS_KEPT = 64


class _Face:
    def __init__(self, path: Path) -> None:
        self.data = path.read_bytes()
        self.tt = ttLib.TTFont(io.BytesIO(self.data), lazy=False)
        # Everything the engine and the font descriptor read, loaded now (fontTools loads
        # tables lazily otherwise, which is not safe across threads).
        for table in ("head", "hhea", "OS/2", "post", "cmap", "hmtx", "name", "maxp"):
            self.tt[table]
        self.hb_face = hb.Face(self.data)
        names = self.tt["name"]
        self.ps_name = str(names.getDebugName(6) or "Stamp").replace(" ", "")
        self.units_per_em = int(self.tt["head"].unitsPerEm)
        order = self.tt.getGlyphOrder()
        metrics = self.tt["hmtx"].metrics
        self.widths = {gid: metrics[name][0] for gid, name in enumerate(order)}
        cmap = self.tt.getBestCmap()
        self.always = frozenset(self.tt.getGlyphID(cmap[c]) for c in range(0x20, 0x7F) if c in cmap)
        self.subsets: OrderedDict[frozenset[int], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def program(self, glyphs: frozenset[int]) -> bytes:
        """The font program with `glyphs` (and the ASCII letters), glyph ids kept."""
        key = glyphs | self.always
        with self.lock:
            if key in self.subsets:
                self.subsets.move_to_end(key)
                return self.subsets[key]
        options = ft_subset.Options(layout_closure=False)
        options.drop_tables += ["GPOS", "GDEF", "GSUB"]
        options.retain_gids = True
        face = ttLib.TTFont(io.BytesIO(self.data))
        subsetter = ft_subset.Subsetter(options=options)
        subsetter.populate(gids=sorted(key))
        subsetter.subset(face)
        out = io.BytesIO()
        face.save(out)
        program = out.getvalue()
        with self.lock:
            self.subsets[key] = program
            while len(self.subsets) > SUBSETS_KEPT:
                self.subsets.popitem(last=False)
        return program


@cache
def _face(path: str) -> _Face:
    return _Face(Path(path))


_FACE_LOCK = threading.Lock()


def face(path: str) -> _Face:
    with _FACE_LOCK:
        return _face(path)


class _KeptCIDFont(CIDFontType2):
    def __init__(self, engine: StampFontEngine, shared: _Face, subset_prefix: str) -> None:
        super().__init__(shared.tt, shared.ps_name, subset_prefix)
        self.engine = engine
        self.shared = shared

    def set_font_file(self, writer: BasePdfFileWriter) -> generic.IndirectObject:
        stream = generic.StreamObject(
            stream_data=self.shared.program(frozenset(self.engine.used_glyphs()))
        )
        stream.compress()  # type: ignore[no-untyped-call]
        ref = writer.add_object(stream)
        self._font_descriptor[generic.pdf_name("/FontFile2")] = ref
        return ref


class StampFontEngine(GlyphAccumulator):
    """A `GlyphAccumulator` over the shared face; see the module's docstring."""

    def __init__(
        self, writer: BasePdfFileWriter, shared: _Face, font_size: float, obj_stream: Any
    ) -> None:
        FontEngine.__init__(
            self, writer, shared.ps_name, embedded_subset=True, obj_stream=obj_stream,
            font_size=int(font_size),
        )  # fmt: skip
        self._font_ref = writer.allocate_placeholder()
        self.hb_font = hb.Font(shared.hb_face)
        self.tt = shared.tt
        self.shared = shared
        self.cff_charset = None
        self.use_raw_gids = True
        self.cidfont_obj = _KeptCIDFont(self, shared, self.subset_prefix or "")
        self.features = None
        self.units_per_em = shared.units_per_em
        self._glyphs: dict[int, tuple[int, int]] = {}
        self._cid_to_unicode: dict[int, str] = {}
        self._GlyphAccumulator__reverse_cmap = None
        self.ot_language_tag = self.ot_script_tag = None
        self.writing_direction = self.bcp47_lang_code = None
        self._subset_created = True  # the subset is cut (or found) when written
        self._write_prepared = False

    def _get_cid_and_width(self, glyph_id: int) -> tuple[int, int]:
        found = self._glyphs.get(glyph_id)
        if found is None:
            found = self._glyphs[glyph_id] = (glyph_id, self.shared.widths[glyph_id])
        return found

    def used_glyphs(self) -> set[int]:
        return set(self._glyphs)


class StampFontFactory(FontEngineFactory):
    def __init__(self, path: Path, font_size: float) -> None:
        self.path = str(path)
        self.font_size = font_size

    def create_font_engine(
        self, writer: BasePdfFileWriter, obj_stream: Any = None
    ) -> StampFontEngine:
        if obj_stream is None and writer.stream_xrefs:
            obj_stream = writer.prepare_object_stream()  # type: ignore[no-untyped-call]
        return StampFontEngine(writer, face(self.path), self.font_size, obj_stream)
