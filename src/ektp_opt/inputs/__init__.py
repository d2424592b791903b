"""What a plan is made from: the scenario file, the admin geography, the working-day calendar and
the households (read from a CSV or generated), each validated with one-line errors."""
