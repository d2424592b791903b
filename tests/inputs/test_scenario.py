from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.errors import InputError
from ektp_opt.inputs.scenario import load_scenario
from tests.conftest import MEDAN


@pytest.mark.parametrize("name", ["medan-2011", "medan-2011-actual", "medan-2011-slip", "medan-10k"])
def test_medan_scenarios_load(name: str) -> None:
    ls = load_scenario(MEDAN / f"{name}.toml")
    assert len(ls.admin.kecamatan) == 21
    assert len(ls.admin.kelurahan) == 151
    assert str(ls.scenario.start) == "2011-08-18"


def test_medan_pools() -> None:
    pools = {
        n: [d.pool for d in load_scenario(MEDAN / f"{n}.toml").scenario.deliveries if d.pool]
        for n in ("medan-2011", "medan-2011-actual", "medan-2011-slip")
    }
    assert pools == {"medan-2011": [210], "medan-2011-actual": [37], "medan-2011-slip": [150, 60]}


BROKEN = [
    (
        {
            "head": 'name = "x"\ncity = "x"\nstart = 2011-09-10\ndeadline = 2011-08-18\nshifts_per_day = 4\n'
            'kecamatan = "kecamatan.csv"\nkelurahan = "kelurahan.csv"\n'
        },
        "(top level)",
        "after start",
    ),
    (
        {
            "head": 'name = "x"\ncity = "x"\nstart = 2011-08-18\ndeadline = 2011-09-10\nshifts_per_day = 6\n'
            'kecamatan = "kecamatan.csv"\nkelurahan = "kelurahan.csv"\n'
        },
        "shifts_per_day",
        "4 or 5",
    ),
    (
        {"deliveries": '[[deliveries]]\ndate = 2011-08-15\nkecamatan = "12.71.99"\ncount = 1\n'},
        "deliveries[0].kecamatan",
        "unknown kecamatan",
    ),
    (
        {"deliveries": "[[deliveries]]\ndate = 2011-08-15\npool = -3\n"},
        "deliveries[0].pool",
        "greater than or equal to 0",
    ),
    (
        {"calendar": '[calendar]\nworkdays = ["mon"]\nholidays = [2031-01-01]\n'},
        "calendar.holidays[0]",
        "more than ten years after",
    ),
    (
        {"device": "[device]\ncapacity_per_day = 48\nsetup_dayz = 1\n"},
        "device.setup_dayz",
        "Extra inputs",
    ),
    (
        {"calendar": '[calendar]\nworkdays = ["funday"]\n'},
        "calendar.workdays[0]",
        "Input should be",
    ),
    ({"backlog": "[backlog]\nreserve_per_shift = 12\n"}, "(top level)", "reserve_per_shift"),
]


@pytest.mark.parametrize(("over", "where", "why"), BROKEN)
def test_broken_scenarios_name_the_field(
    tiny_city: Callable[..., Path], over: dict[str, str], where: str, why: str
) -> None:
    path = tiny_city(**over)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    assert exc.value.where == where
    assert why in exc.value.reason
    assert str(path) in exc.value.message
    assert "\n" not in exc.value.message


def test_not_toml_and_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_scenario(bad)
    bad.write_bytes(b'name = "\xff\xfe"\n')
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_scenario(bad)
    with pytest.raises(InputError, match="file not found"):
        load_scenario(tmp_path / "missing.toml")
