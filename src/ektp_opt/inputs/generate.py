"""A deterministic synthetic population shaped like the city.

Why synthetic: real KK rows are personal data and never ship with ektp-opt. The generator builds a
population with the city's real kecamatan/kelurahan shape and exact totals, so the planner is
tested at real scale.

Members per KK ("wajib KTP" residents: aged 17+ or married) are ``1 + Poisson(mean - 1)``, capped
at 10. Reasoning: the 2010 census puts Medan's household size near 4.2, and roughly three in four
residents are of e-KTP age, which gives ~3.2 per KK (Medan's own figure: 2.1 M / 650 k = 3.23).
Every KK has at least one adult; the shifted Poisson then gives ~11% single-adult KK, ~24% couples
and a thin tail of large extended families, the shape of Indonesian household surveys. The draw
is then nudged, KK by KK, so that both the KK count and the resident count of every kecamatan are
exact.

Kecamatan get KK and residents in proportion to ``population_2013`` (largest remainder);
kelurahan inside a kecamatan get seeded Dirichlet weights; lingkungan hold 150-350 KK each.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.admin import AdminData
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario.model import GeneratorSpec

GENERATOR_VERSION = 1
MAX_GENERATED_MEMBERS = 10
HOME_VISIT_SHARE_DEFAULT = 0.005


def apportion(total: int, weights: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder, ties by
    index): exact, deterministic, and never off by more than one from the real share."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        w = np.ones_like(w)
    share = w / w.sum() * total
    base = np.floor(share).astype(np.int64)
    rest = total - int(base.sum())
    if rest:
        order = np.lexsort((np.arange(len(w)), -(share - base)))
        base[order[:rest]] += 1
    return base


def _nudge_to_total(rng: np.random.Generator, members: npt.NDArray[np.int32], target: int) -> None:
    """Add or remove single members at random KK until ``members`` sums to ``target``."""
    while True:
        diff = target - int(members.sum())
        if diff == 0:
            return
        step = 1 if diff > 0 else -1
        eligible = np.flatnonzero(members < MAX_GENERATED_MEMBERS if step > 0 else members > 1)
        if eligible.size == 0:
            raise ValueError("cannot reach the resident total with 1..10 members per KK")
        pick = rng.choice(eligible, size=min(abs(diff), eligible.size), replace=False)
        members[pick] += step


def residents_per_kecamatan(
    residents: int, kk: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Residents per kecamatan, in proportion to the weights, yet reachable: every kecamatan gets
    between one and ``MAX_GENERATED_MEMBERS`` residents per KK it holds (so 1 KK / 10 residents,
    50 / 51 or 3,095 / 30,950 come out exact). The members above one per KK are apportioned over
    the kecamatan that have KK, and what a full kecamatan cannot hold goes to those with room."""
    plain = apportion(residents, weights)  # the shares alone, when every kecamatan can hold them
    if np.all((plain >= kk) & (plain <= kk * MAX_GENERATED_MEMBERS)):
        return plain
    extra_total = residents - int(kk.sum())
    room = kk * (MAX_GENERATED_MEMBERS - 1)
    if extra_total < 0 or extra_total > int(room.sum()):
        raise ValueError(f"{residents} residents cannot fill {int(kk.sum())} KK of 1..{MAX_GENERATED_MEMBERS}")
    holds = np.where(kk > 0, weights, 0.0)  # only kecamatan with KK can take residents
    if holds.sum() <= 0:
        holds = (kk > 0).astype(np.float64)
    extra = np.minimum(apportion(extra_total, holds), room)
    while (left := extra_total - int(extra.sum())) > 0:
        free = room - extra
        extra += np.minimum(free, apportion(left, free.astype(np.float64)))
    return kk + extra


def kecamatan_shares(spec: GeneratorSpec, admin: AdminData) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """KK and residents per kecamatan of the population ``spec`` generates, without generating it:
    what a national master plan needs of each city."""
    kec_weights = np.array([k.weight for k in admin.kecamatan])
    kk_per_kec = apportion(spec.households, kec_weights)
    return kk_per_kec, residents_per_kecamatan(spec.residents, kk_per_kec, kec_weights)


def generate_population(spec: GeneratorSpec, admin: AdminData) -> Households:
    rng = np.random.default_rng(spec.seed)
    n_kec = len(admin.kecamatan)
    kk_per_kec, res_per_kec = kecamatan_shares(spec, admin)
    kel_kec = np.array([admin.kecamatan_index()[k.kecamatan_code] for k in admin.kelurahan], dtype=np.int64)
    kk_per_kel = np.zeros(len(admin.kelurahan), dtype=np.int64)
    for k in range(n_kec):
        idx = np.flatnonzero(kel_kec == k)
        kk_per_kel[idx] = apportion(int(kk_per_kec[k]), rng.dirichlet(np.full(idx.size, 8.0)))

    kelurahan = np.repeat(np.arange(len(admin.kelurahan), dtype=np.int32), kk_per_kel)
    mean = spec.residents / spec.households
    members = (1 + rng.poisson(max(mean - 1.0, 0.0), size=spec.households)).astype(np.int32)
    np.minimum(members, MAX_GENERATED_MEMBERS, out=members)
    kk_kec = kel_kec[kelurahan]
    for k in range(n_kec):
        idx = np.flatnonzero(kk_kec == k)
        if idx.size:
            sub = members[idx]
            _nudge_to_total(rng, sub, int(res_per_kec[k]))
            members[idx] = sub

    # Position of each KK inside its kelurahan, then lingkungan of 150-350 KK.
    starts = np.concatenate(([0], np.cumsum(kk_per_kel)[:-1]))
    position = np.arange(spec.households, dtype=np.int64) - np.repeat(starts, kk_per_kel)
    ling_size = rng.integers(150, 351, size=len(admin.kelurahan))
    lingkungan = (position // ling_size[kelurahan] + 1).astype(np.int32)
    home_visit = rng.random(spec.households) < spec.home_visit_share

    prefixes = np.array([k.code.replace(".", "") for k in admin.kelurahan])
    kk_id = np.char.add(prefixes[kelurahan], np.char.zfill((position + 1).astype(str), 6))
    return Households(
        kk_id=kk_id,
        kelurahan=kelurahan,
        members=members,
        lingkungan=lingkungan,
        home_visit=home_visit,
        sha256=spec_digest(spec, admin),
    )


def spec_digest(spec: GeneratorSpec, admin: AdminData) -> str:
    """Identity of a generated population: the spec, the admin shape and the generator version."""
    payload = {
        "generator": GENERATOR_VERSION,
        "spec": spec.model_dump(),
        "kecamatan": [(k.code, k.weight) for k in admin.kecamatan],
        "kelurahan": [k.code for k in admin.kelurahan],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def content_digest(h: Households) -> str:
    """A checksum of the arrays themselves, so an edited cache file is noticed."""
    d = hashlib.blake2b(digest_size=16)  # integrity, not secrecy: the fastest hashlib digest
    for a in (h.kk_id, h.kelurahan, h.members, h.lingkungan, h.home_visit):
        d.update(str(a.dtype).encode())
        d.update(np.ascontiguousarray(a).tobytes())
    return d.hexdigest()


def cache_dir() -> Path:
    env = os.environ.get("EKTP_OPT_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ektp-opt"


def generate_cached(spec: GeneratorSpec, admin: AdminData) -> Households:
    """Generate once per spec; later runs read the cached arrays (keyed by ``spec_digest``)."""
    digest = spec_digest(spec, admin)
    path = cache_dir() / f"population-{digest[:24]}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                cached = Households(
                    kk_id=z["kk_id"],
                    kelurahan=z["kelurahan"],
                    members=z["members"],
                    lingkungan=z["lingkungan"],
                    home_visit=z["home_visit"],
                    sha256=digest,
                )
                if str(z["content"]) == content_digest(cached):
                    return cached
        except (OSError, ValueError, KeyError, EOFError):
            pass
        path.unlink(missing_ok=True)  # a damaged or edited cache is rebuilt, never trusted
    h = generate_population(spec, admin)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(
            tmp,
            kk_id=h.kk_id,
            kelurahan=h.kelurahan,
            members=h.members,
            lingkungan=h.lingkungan,
            home_visit=h.home_visit,
            content=np.array(content_digest(h)),
        )
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home is fine: the cache is only a speed-up
    return h
