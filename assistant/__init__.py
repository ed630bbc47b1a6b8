"""Notice Assistant: answers questions about official notices, citing the exact measure."""

import os as _os

# The embedding engine and FAISS each run an OpenMP pool. With the default
# active wait, idle threads spin on the (two) cores and a query that takes
# ~30 ms alone takes over a second as soon as anything else runs. Sleep instead.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
