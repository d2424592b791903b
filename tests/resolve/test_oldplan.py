"""The attendance sheet a re-plan reads (resolve/oldplan.py, SPEC.md "Planning again"): every
spelling it accepts, and each refusal naming its row and column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ektp_opt.errors import InputError
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.resolve.oldplan import read_attendance

SPELLINGS = {"1": True, "yes": True, "YES": True, "True": True, "0": False, "no": False, "No": False, "FALSE": False}


def test_every_spelling_of_came_and_did_not(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    h = load_population(load_scenario(tiny_city()))
    ids = h.kk_id.tolist()
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("kk_id,attended\n" + "".join(f"{ids[n]},{w}\n" for n, w in enumerate(SPELLINGS)))
    assert read_attendance(sheet, h) == {n: came for n, came in enumerate(SPELLINGS.values())}


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        ("{0},maybe\n", "row 2, column attended: 'maybe' is not 1/0 or yes/no"),
        ("{0},1\nKK-NOBODY,0\n", "row 3, column kk_id: KK-NOBODY is not in the population"),
        ("{0},1\n{1},0\n{0},0\n", "row 4, column kk_id: {0} is listed twice"),
    ],
)
def test_a_bad_line_is_named(tiny_city: Callable[..., Path], tmp_path: Path, rows: str, said: str) -> None:
    h = load_population(load_scenario(tiny_city()))
    ids = h.kk_id.tolist()
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("kk_id,attended\n" + rows.format(*ids))
    with pytest.raises(InputError) as exc:
        read_attendance(sheet, h)
    assert str(exc.value) == f"{sheet}: {said.format(*ids)}"
