#!/bin/sh
# Regenerate docs/parameters.md: its first 30 lines (the introduction) and the schema's table.
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
head -30 docs/parameters.md > docs/parameters.md.new
$PY run.py schema --markdown >> docs/parameters.md.new
mv docs/parameters.md.new docs/parameters.md
