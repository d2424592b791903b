"""Charts (matplotlib, Agg backend: no display needed). Kept apart from the solver."""

import matplotlib

# Names come from files: "$\\foo{$" in a kecamatan name must print as typed, not as mathtext.
matplotlib.rcParams["text.parse_math"] = False
