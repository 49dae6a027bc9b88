"""smartcommute: agent-based simulation of commuting, CO2 and stress under smart-working adoption."""

import os

# The model is vectorised over workers and meant to run on one core per process (sweeps run many
# processes); BLAS threads only add spin-waiting to its many small dot products. Must be set before
# numpy is first imported, so it only applies when nothing imported numpy earlier.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

__version__ = "0.1.0"
