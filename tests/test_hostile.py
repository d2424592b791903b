"""Hostile input: fuzzed scenario files end in InputError, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ektp_opt.errors import InputError
from ektp_opt.scenario import load_scenario

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mutate(data: st.DataObject, raw: bytes) -> bytes:
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, max(0, len(buf) - 1)))
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip" and buf:
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[pos:]
        else:
            buf[pos:pos] = data.draw(st.sampled_from([b"-1", b"99999999999999999999", b"\xff", b'"', b"\n", b"x"]))
    return bytes(buf)


@FUZZ
@given(data=st.data())
def test_fuzzed_scenario(tiny_city: Callable[..., Path], data: st.DataObject) -> None:
    path = tiny_city()
    path.write_bytes(_mutate(data, path.read_bytes()))
    try:
        load_scenario(path)
    except InputError as exc:
        assert "\n" not in exc.message and str(path) in exc.message
