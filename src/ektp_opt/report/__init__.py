"""Outputs for the people who carry out a plan: the HTML plan report, invitation letters and
daily rosters. Each reads a plan folder through ``Plan``; none needs the solver."""
