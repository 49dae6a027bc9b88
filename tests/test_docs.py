"""docs/parameters.md lists every scenario key as the schema describes it."""

from __future__ import annotations

import contextlib
import io

from sim.cli import main

from .conftest import ROOT


def test_parameters_doc_is_up_to_date():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema", "--markdown"]) == 0
    table = out.getvalue().strip()
    doc = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert table in doc, "regenerate: see the first lines of docs/parameters.md"
