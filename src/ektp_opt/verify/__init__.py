"""The independent plan verifier (SPEC.md, "Hard rules of a plan").

Written from SPEC.md, not from the solver: it shares only the input loaders with the rest of
ektp-opt and recomputes every date rule with numpy's own business-day calendar.
"""

from ektp_opt.verify.rules import Report, Violation, verify_plan

__all__ = ["Report", "Violation", "verify_plan"]
