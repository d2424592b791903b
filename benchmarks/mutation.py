"""Gather a mutmut run into benchmarks/results/mutation.json (make mutation).

mutmut 3 leaves one ``.meta`` file per mutated source file in ``mutants/``, with the exit code of
the tests for each mutant. Here they are counted per module (killed, survived, timed out, no
tests) and every survivor is listed with its diff; a survivor explained as equivalent (it cannot
change what the code computes) carries its reason from benchmarks/mutation_equivalent.toml, so
that an unexplained survivor is a test still to write.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KILLED = {1: "killed", 3: "killed", 0: "survived", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout"}


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in (5, 33):
        return "no tests"
    return KILLED.get(code, "suspicious")


def diff(name: str) -> str:
    out = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=ROOT, capture_output=True, text=True)
    return "\n".join(line for line in out.stdout.splitlines() if line.startswith(("+", "-")) and line[1:2] != line[:1])


def main() -> None:
    reasons = tomllib.loads((ROOT / "benchmarks" / "mutation_equivalent.toml").read_text()).get("equivalent", {})
    modules: dict[str, Counter[str]] = {}
    survivors = []
    for meta in sorted((ROOT / "mutants").rglob("*.meta")):
        data = json.loads(meta.read_text())
        module = str(meta.relative_to(ROOT / "mutants").with_suffix("")).removesuffix(".py") + ".py"
        counts = modules.setdefault(module, Counter())
        for name, code in sorted(data.get("exit_code_by_key", {}).items()):
            s = status(code)
            counts[s] += 1
            if s in ("survived", "no tests"):
                survivors.append({"mutant": name, "module": module, "status": s, "diff": diff(name),
                                  "equivalent": reasons.get(name)})  # fmt: skip
    total = Counter()
    for c in modules.values():
        total.update(c)
    checked = sum(total.values()) - total["not checked"]
    explained = sum(1 for s in survivors if s["equivalent"])
    report = {
        "tool": "mutmut 3.8.1",
        "command": "make mutation",
        "modules": {m: dict(c) for m, c in modules.items()},
        "total": dict(total),
        "killed_share": round(total["killed"] / checked, 4) if checked else None,
        "killed_or_equivalent_share": round((total["killed"] + explained) / checked, 4) if checked else None,
        "survivors": survivors,
    }
    out = ROOT / "benchmarks" / "results" / "mutation.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{checked} mutants checked: {total['killed']} killed, {len(survivors)} survived "
          f"({explained} explained as equivalent); {out.relative_to(ROOT)}")  # fmt: skip


if __name__ == "__main__":
    main()
