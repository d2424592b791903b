"""Checking a national output folder, from the files alone: every city plan against every city
rule (the ordinary verifier, one Ray task per city, or all in this process with one CPU), and the
national rules:

* N1 every kab/kota of the scenario has a plan folder;
* N2 no wave is split into more devices than it had (master.json, and the devices the plans use);
* N3 each kecamatan has, on each delivery date, exactly the devices the master gave it (its
  allotment plus its share of every wave arriving that day).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ektp_opt.errors import InputError
from ektp_opt.national.cities import CITY_TOML
from ektp_opt.national.run import MASTER, PLANS, SCENARIOS
from ektp_opt.national.scenario import LoadedNational, load_national
from ektp_opt.national.session import start_ray
from ektp_opt.plan.files import DEVICES


@dataclass
class NationalReport:
    folder: Path
    cities: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> {"ok", "rows", "broken"}
    national: list[str] = field(default_factory=list)  # broken national rules, with examples

    @property
    def ok(self) -> bool:
        return not self.national and all(c["ok"] for c in self.cities.values())


def _verify_city(plan_dir: str, scenario: str) -> dict[str, Any]:
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.verify import verify_plan

    ls = load_scenario(scenario)
    try:
        report = verify_plan(Path(plan_dir), ls, load_population(ls, use_cache=False))
    except InputError as exc:
        return {"ok": False, "rows": 0, "broken": [exc.message]}
    return {
        "ok": report.ok,
        "rows": report.rows,
        "broken": [f"{v.rule} ({v.count})" for v in report.violations],
    }


def read_master(folder: Path) -> dict[str, Any]:
    path = folder / MASTER
    if not path.is_file():
        raise InputError(path, None, "not found: is this a national output folder (ektp-opt national plan)?")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, None, f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("kecamatan"), dict):
        raise InputError(path, "kecamatan", "missing")
    return data


def national_rules(ln: LoadedNational, folder: Path, master: dict[str, Any]) -> list[str]:
    from ektp_opt.plan.read import read_devices

    sc = ln.scenario
    broken: list[str] = []
    kec = master["kecamatan"]
    for w, wave in enumerate(sc.waves):
        placed = sum(int(v["waves"][w]) for v in kec.values())
        if placed > wave.count:
            broken.append(f"N2 wave {w + 1} ({wave.date}): {placed} devices placed, {wave.count} shipped")
    missing = [k.code for k in ln.kabkota if not (folder / PLANS / k.code / DEVICES).is_file()]
    if missing:
        broken.append(f"N1 {len(missing)} kab/kota without a plan, e.g. {', '.join(missing[:5])}")
    used = [0] * len(sc.waves)
    wrong: list[str] = []
    for k in ln.kabkota:
        path = folder / PLANS / k.code / DEVICES
        if not path.is_file():
            continue
        have: dict[tuple[str, dt.date], int] = {}
        for _dev, code, delivery, _avail in read_devices(path):
            have[(code, delivery)] = have.get((code, delivery), 0) + 1
        want: dict[tuple[str, dt.date], int] = {}
        for code, v in kec.items():
            if v.get("kabkota") != k.code:
                continue
            if sc.allotment.per_kecamatan:
                key = (code, sc.allotment.arrives(k.province))
                want[key] = want.get(key, 0) + sc.allotment.per_kecamatan
            for w, wave in enumerate(sc.waves):
                n = int(v["waves"][w])
                if n:
                    key = (code, wave.arrives(k.province))
                    want[key] = want.get(key, 0) + n
        for key in sorted(set(have) | set(want)):
            if have.get(key, 0) != want.get(key, 0):
                wrong.append(f"{key[0]} {key[1]}: {have.get(key, 0)} in the plan, {want.get(key, 0)} from the master")
        for w in range(len(sc.waves)):
            used[w] += sum(int(v["waves"][w]) for c, v in kec.items() if v.get("kabkota") == k.code)
    if wrong:
        broken.append(f"N3 {len(wrong)} kecamatan-deliveries differ from the master, e.g. {wrong[0]}")
    for w, wave in enumerate(sc.waves):
        if used[w] > wave.count:
            broken.append(f"N2 wave {w + 1}: the plans use {used[w]} devices, {wave.count} shipped")
    return broken


def _city_jobs(ln: LoadedNational, folder: Path) -> dict[str, tuple[str, str]]:
    """Each kab/kota with a plan folder: its plan folder and the city scenario the run wrote."""
    return {
        k.code: (str(folder / PLANS / k.code), str(folder / SCENARIOS / k.code / CITY_TOML))
        for k in ln.kabkota
        if (folder / PLANS / k.code).is_dir()
    }


def verify_national(
    folder: Path, scenario: Path | None = None, address: str | None = None, cpus: int | None = None
) -> NationalReport:
    """Every city plan, then the national rules. On Ray, one task per city; with one CPU and no
    cluster, in this process (the same report, and no Ray needed: an auditor can check a national
    folder with the base package)."""
    master = read_master(folder)
    ln = load_national(scenario or Path(master["scenario_file"]))
    report = NationalReport(folder)
    report.national = national_rules(ln, folder, master)
    jobs = _city_jobs(ln, folder)
    if address is None and cpus == 1:
        report.cities = {code: _verify_city(*job) for code, job in jobs.items()}
        return report
    import ray

    started_here = start_ray(address, cpus)
    try:
        remote = ray.remote(num_cpus=1, max_retries=3)(_verify_city)
        refs = {code: remote.remote(*job) for code, job in jobs.items()}
        report.cities = {code: ray.get(ref) for code, ref in refs.items()}
    finally:
        if started_here:
            ray.shutdown()
    return report
