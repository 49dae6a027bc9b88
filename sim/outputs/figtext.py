"""The language of a figure: numbers on its axes in the language's symbols, dates in its month names,
the language stamped in the PNG it is saved to, and the words it shows (for the tests).

Every word of a plot or map is taken from the catalogue (``plot.*``, ``map.*`` in :mod:`sim.i18n`)
by the code that draws it; this module does what matplotlib would otherwise do in English: tick
numbers (``0.5`` -> ``0,5`` in Italian) and month names on date axes.

A saved plot carries its language in a PNG text chunk (``Language``), so that a reader in another
language (the report, the app) knows it must draw the plot again; a PNG without one was drawn in
English (folders written before the plots had a language).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.text import Text

from babel.dates import format_date

from sim.i18n import DEFAULT_LANGUAGE, LOCALES, localise_number, number

PNG_LANGUAGE_KEY = "Language"


class LocalisedFormatter(ticker.Formatter):
    """Another formatter's tick labels with the language's decimal and group symbols."""

    def __init__(self, inner: ticker.Formatter, lang: str):
        self.inner, self.lang = inner, lang

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs):
        self.inner.set_locs(locs)

    def __call__(self, x, pos=None):
        return localise_number(self.inner(x, pos), self.lang)

    def format_ticks(self, values):
        return [localise_number(s, self.lang) for s in self.inner.format_ticks(values)]

    def get_offset(self):
        return localise_number(self.inner.get_offset(), self.lang)


class LocalisedDateFormatter(ticker.Formatter):
    """Dates as ``6 gen`` / ``6 Jan`` (day and month; the year where it changes, or on the first tick)."""

    def __init__(self, lang: str):
        self.locale = LOCALES.get(lang, LOCALES[DEFAULT_LANGUAGE])

    def __call__(self, x, pos=None):
        return format_date(mdates.num2date(x).date(), "d MMM y", locale=self.locale)

    def format_ticks(self, values):
        days = [mdates.num2date(v).date() for v in values]
        out, year = [], None
        for d in days:
            out.append(format_date(d, "d MMM" if d.year == year else "d MMM y", locale=self.locale))
            year = d.year
        return out


class TickFormatter(ticker.Formatter):
    """Tick labels in the run's language with the fewest decimals (at least ``decimals``) that write every
    tick exactly, so close ticks never read alike (6,85% and 6,90%, not 6,9% twice)."""

    def __init__(self, lang: str, *, decimals: int = 0, scale: float = 1.0, suffix: str = ""):
        self.lang, self.decimals, self.scale, self.suffix = lang, decimals, scale, suffix
        self.digits = decimals

    def set_locs(self, locs):
        super().set_locs(locs)
        v = np.asarray(locs, dtype=float) * self.scale
        steps = np.diff(np.sort(v))
        tol = 1e-6 * (steps[steps > 0].min() if (steps > 0).any() else 1.0)
        self.digits = next((d for d in range(self.decimals, 5) if np.all(np.abs(np.round(v, d) - v) <= tol)), 4)

    def __call__(self, x, pos=None):
        return number(x * self.scale, self.digits, self.lang) + self.suffix


def _plain(formatter) -> bool:
    """A formatter of numbers whose output the language should change: matplotlib's own, not a
    FuncFormatter (the plots' own functions already write the language; tick labels given as words are
    one too)."""
    return isinstance(formatter, (ticker.ScalarFormatter, ticker.PercentFormatter, ticker.StrMethodFormatter,
                                  ticker.FormatStrFormatter, ticker.LogFormatter))


def localise_figure(fig, lang: str) -> None:
    """Numbers on every axis of ``fig`` (colour bars included) in ``lang``; date axes in its month names.

    Call after the figure is drawn up (formatters set); tick labels are made at draw time, so the
    figure may still change its limits afterwards."""
    if lang == "en":
        return
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for which, get, set_ in (("major", axis.get_major_formatter, axis.set_major_formatter),
                                     ("minor", axis.get_minor_formatter, axis.set_minor_formatter)):
                f = get()
                if isinstance(f, (LocalisedFormatter, LocalisedDateFormatter)):
                    continue
                if isinstance(f, (mdates.ConciseDateFormatter, mdates.AutoDateFormatter, mdates.DateFormatter)):
                    if which == "major":
                        set_(LocalisedDateFormatter(lang))
                elif _plain(f):
                    set_(LocalisedFormatter(f, lang))


def figure_texts(fig) -> list[str]:
    """Every piece of text a figure shows once drawn: titles, labels, legends, notes and tick labels."""
    fig.canvas.draw()
    out = [a.get_text() for a in fig.findobj(Text) if a.get_visible() and a.get_text().strip()]
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            out += [lab.get_text() for lab in axis.get_ticklabels() if lab.get_text().strip()]
    return out


def png_language(path: Path | bytes) -> str:
    """The language stamped in a PNG by :func:`sim.outputs.plots` (``en`` when none: older folders)."""
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    i = 8
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind == b"tEXt":
            key, _, value = data[i + 8:i + 8 + length].partition(b"\0")
            if key.decode("latin-1") == PNG_LANGUAGE_KEY:
                return value.decode("latin-1")
        if kind in (b"IDAT", b"IEND"):  # text chunks come before the image data
            break
        i += 12 + length
    return DEFAULT_LANGUAGE


__all__ = ["LocalisedFormatter", "LocalisedDateFormatter", "localise_figure", "figure_texts", "png_language",
           "PNG_LANGUAGE_KEY"]
