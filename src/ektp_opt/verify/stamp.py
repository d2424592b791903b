"""Consumers (report, invitations, roster, simulate) use a plan only once it keeps every hard rule.

They run the verifier as ``verify`` does; a plan that passed is remembered by a stamp in the cache
folder, keyed by the sha256 of every file of the plan folder, of the scenario and of the
households, and by the version of ektp-opt, so a plan read again unchanged is not checked again
(Medan: 1.8 s saved per command), and a plan changed in any byte is.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ektp_opt import __version__
from ektp_opt.errors import InputError, VerificationError
from ektp_opt.inputs.generate import cache_dir
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.safety.atomic import manifest


def _key(plan_dir: Path, ls: LoadedScenario, households: Households) -> str:
    parts = {"plan": manifest(plan_dir), "scenario": ls.sha256, "households": households.sha256, "v": __version__}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def require_verified(plan_dir: Path, ls: LoadedScenario, households: Households | None = None) -> None:
    """Raise VerificationError (exit 5) naming the broken rules when the plan breaks any."""
    from ektp_opt.inputs.population import load_population
    from ektp_opt.verify.rules import verify_plan

    if not plan_dir.is_dir():
        raise InputError(plan_dir, None, "plan folder not found")
    households = households if households is not None else load_population(ls)
    stamp = cache_dir() / "verified" / _key(plan_dir, ls, households)
    if stamp.is_file():
        return
    report = verify_plan(plan_dir, ls, households)
    if not report.ok:
        names = "; ".join(v.rule for v in report.violations[:3])
        raise VerificationError(f"{plan_dir}: breaks hard rules ({names}); see `ektp-opt verify {plan_dir}`")
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text("verified\n", encoding="utf-8")
    except OSError:
        pass  # no cache folder: the next command checks again
