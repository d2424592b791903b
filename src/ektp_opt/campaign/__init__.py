"""The campaign as it happens: a store of what was done each day, the pace measured from it, and
re-plans from the truth (issue #28). Library calls live in ``ektp_opt.api``."""
