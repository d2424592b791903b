"""Gather a mutmut run into benchmarks/results/mutation.json (make mutation).

mutmut 3 leaves one ``.meta`` file per mutated source file in ``mutants/``, with the exit code of
the tests for each mutant, beside the mutated file that holds every mutant as a function. Here
they are counted per module (killed, survived, timed out, no tests) and every survivor is listed
with its diff (read from that file: ``mutmut show`` takes a second a mutant); a survivor explained
as equivalent (it cannot change what the code computes) carries its reason from
benchmarks/mutation_equivalent.toml, so that an unexplained survivor is a test still to write. A
mutant caught by a test mutmut cannot run (Ray does not start in its forked workers) is listed there
too, under ``caught_outside``, with the test that kills it when run by hand.
"""

from __future__ import annotations

import ast
import difflib
import json
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


def _functions(mutated: Path) -> dict[str, str]:
    """Every function of a file mutmut wrote, by name: the original (``..__mutmut_orig``) and each
    mutant (``..__mutmut_N``), methods included (mutmut names them ``xǁClassǁmethod``)."""
    text = mutated.read_text()
    lines = text.splitlines()
    return {
        node.name: "\n".join(lines[node.lineno - 1 : node.end_lineno])
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
    }


def diff(functions: dict[str, str], name: str) -> str:
    """The lines a mutant changed against the original function (what ``mutmut show`` prints,
    without a process per mutant)."""
    short = name.rsplit(".", 1)[-1]
    base = short.rsplit("__mutmut_", 1)[0]
    orig = functions.get(f"{base}__mutmut_orig", "").splitlines()
    new = [line.replace(short, f"{base}__mutmut_orig", 1) for line in functions.get(short, "").splitlines()]
    out = difflib.unified_diff(orig, new, lineterm="", n=0)
    return "\n".join(line for line in out if line.startswith(("+", "-")) and line[1:2] != line[:1])


# Mutants that cannot change what the code computes, recognised by their diff: (pattern in the
# removed line, pattern in the added line, why).
EQUIVALENT_PATTERNS = [
    ("strict=True", "strict=False", "zip over sequences of one length: strict only guards a bug"),
    ("strict=True", "", "zip over sequences of one length: strict only guards a bug"),
    ("count=len(", "", "np.fromiter's count is a size hint; the result is the same"),
    ("repeat(-1)", "repeat(-2)", "any negative sentinel marks an unknown KK"),
    ('encoding="utf-8"', "", "ASCII text (JSON escapes what is not ASCII): read and written alike in any encoding"),
    ('.encode("utf-8")', '.encode("UTF-8")', "codec names are not case-sensitive"),
    ('new_bool_var("")', 'new_bool_var("XXXX")', "a CP-SAT variable's name does not change the model"),
]


def equivalent_by_pattern(d: str) -> str | None:
    lines = d.splitlines()
    removed = next((x[1:] for x in lines if x.startswith("-")), "")
    added = next((x[1:] for x in lines if x.startswith("+")), "")
    for old, new, why in EQUIVALENT_PATTERNS:
        if old in removed and (new in added if new else old not in added):
            return why
    return None


def category(d: str) -> str:
    added = next((x for x in d.splitlines() if x.startswith("+")), "")
    if "XX" in added or any(w.isupper() and len(w) > 3 for w in added.replace('"', " ").split()):
        return "message text not asserted"
    return "logic no selected test reaches"


def main() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    explained = tomllib.loads((ROOT / "benchmarks" / "mutation_equivalent.toml").read_text())
    reasons, outside = explained.get("equivalent", {}), explained.get("caught_outside", {})
    modules: dict[str, Counter[str]] = {}
    survivors = []
    for meta in sorted((ROOT / "mutants").rglob("*.meta")):
        data = json.loads(meta.read_text())
        functions = _functions(meta.with_suffix(""))
        module = str(meta.relative_to(ROOT / "mutants").with_suffix("")).removesuffix(".py") + ".py"
        counts = modules.setdefault(module, Counter())
        for name, code in sorted(data.get("exit_code_by_key", {}).items()):
            s = "caught outside mutmut" if name in outside else status(code)
            counts[s] += 1
            if s in ("survived", "no tests"):
                d = diff(functions, name)
                why = reasons.get(name) or equivalent_by_pattern(d)
                survivors.append(
                    {
                        "mutant": name,
                        "module": module,
                        "status": s,
                        "diff": d,
                        "equivalent": why,
                        "gap": None if why else category(d),
                    }
                )
    total: Counter[str] = Counter()
    for c in modules.values():
        total.update(c)
    checked = sum(total.values()) - total["not checked"]
    # A mutant that makes the tests hang is caught too; so is one a test mutmut cannot run kills
    # when run by hand (caught_outside in mutation_equivalent.toml, with the test and why).
    caught = total["killed"] + total["timeout"] + total["caught outside mutmut"]
    explained = sum(1 for s in survivors if s["equivalent"])
    measured = {m for m, c in modules.items() if sum(c.values()) > c["not checked"]}
    not_run = [m for m in config["only_mutate"] if m not in measured]
    gaps = Counter(str(x["gap"]) for x in survivors if x["gap"])
    report = {
        "tool": "mutmut 3.8.1",
        "tests": config["pytest_add_cli_args_test_selection"],
        "mutated": config["only_mutate"],
        "gaps": dict(gaps),
        "command": "make mutation",
        "modules": {m: dict(c) for m, c in modules.items()},
        "total": dict(total),
        "not_run": not_run,
        "caught_share": round(caught / checked, 4) if checked else None,
        "caught_or_equivalent_share": round((caught + explained) / checked, 4) if checked else None,
        "caught_outside_mutmut": outside,
        "survivors": survivors,
    }
    out = ROOT / "benchmarks" / "results" / "mutation.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{checked} mutants checked: {caught} caught ({total['timeout']} by a timeout, "
        f"{total['caught outside mutmut']} by a test run outside mutmut), {len(survivors)} "
        f"survived or reached by no test ({explained} explained as equivalent); not run: {not_run or 'none'}; "
        f"{out.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
