"""Words and numbers in the planner's language: Italian (``it``) or English (``en``).

One YAML catalogue per language (``sim/i18n/it.yaml``, ``sim/i18n/en.yaml``), read once; both hold
the same keys (tests/test_i18n.py checks it). A key is a dotted path (``report.title_one``); a text
may hold ``{name}`` fields filled by :func:`t`. KPI labels and units are not here: they are declared
with each KPI in :mod:`sim.outputs.kpis`. Lever labels and help texts are here (``lever.<path>``),
beside the schema's own English meaning and source, which stay the reference for modellers.

Numbers follow the language's conventions (CLDR, through Babel): ``6,68%`` and ``1.210.000`` in
Italian, ``6.68%`` and ``1,210,000`` in English.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.dates import format_date
from babel.numbers import get_decimal_symbol, get_group_symbol

from sim.scenario.yaml_input import read_yaml_file

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "en"
LOCALES = {"it": "it_IT", "en": "en_GB"}
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}
FOLDER = Path(__file__).parent


class LanguageError(ValueError):
    """A language that is not one of :data:`LANGUAGES`."""


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise LanguageError(f"language: expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def _flatten(d: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Every text of ``lang``'s catalogue, by dotted key (read once)."""
    return _flatten(read_yaml_file(FOLDER / f"{check_language(lang)}.yaml"))


def t(key: str, lang: str = DEFAULT_LANGUAGE, /, **fields) -> str:
    """The text ``key`` in ``lang``, its ``{fields}`` filled; ``KeyError`` naming a key in no catalogue."""
    try:
        text = catalogue(lang)[key]
    except KeyError:
        raise KeyError(f"{key}: not in the {lang} catalogue (sim/i18n/{lang}.yaml)") from None
    return text.format(**fields) if fields else text


def has(key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
    return key in catalogue(lang)


@functools.cache
def _symbols(lang: str) -> tuple[str, str]:
    locale = LOCALES[check_language(lang)]
    return get_decimal_symbol(locale), get_group_symbol(locale)


def localise_number(text: str, lang: str) -> str:
    """A number written the Python way (``1,234.5``) in ``lang``'s symbols (``1.234,5`` in Italian)."""
    dec, group = _symbols(lang)
    if (dec, group) == (".", ","):
        return text
    return text.replace(",", "\0").replace(".", dec).replace("\0", group)


def number(x: float, decimals: int, lang: str = DEFAULT_LANGUAGE, *, sign: bool = False) -> str:
    """``x`` with thousands separators and ``decimals`` decimals in ``lang``; never ``-0``, never an exponent."""
    s = f"{x:{'+' if sign else ''},.{decimals}f}"
    if s.lstrip("+-").strip("0.,") == "":
        s = f"{0:.{decimals}f}"
    return localise_number(s, lang)


def long_date(d, lang: str = DEFAULT_LANGUAGE) -> str:
    """A date (or datetime) as ``2 December 2026`` / ``2 dicembre 2026``."""
    return format_date(d, "d MMMM y", locale=LOCALES[check_language(lang)])
