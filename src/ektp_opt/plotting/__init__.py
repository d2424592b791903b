"""Charts (matplotlib, Agg backend: no display needed). Kept apart from the solver."""
