#!/usr/bin/env python3
"""Single entry point: ``python run.py run scenarios/milan_baseline.yaml`` (see README)."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
