"""The plans the verifier tests break, each made once per test session (and, in the mutation run,
once for all mutants: tests/conftest.py ``prebuilt``): an office plan, one with home visits, a
capped re-plan with backlog bookings, one with operators, one with overflow to a neighbour."""

from __future__ import annotations

import pytest

from tests.verify.test_every_rule import (
    Base,
    _build_office,
    _build_operators,
    _build_overflow,
    _build_replan,
    _build_visits,
    _fixture,
)


@pytest.fixture(scope="session")
def office(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("office", _build_office, tmp_path_factory)


@pytest.fixture(scope="session")
def visits(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("visits", _build_visits, tmp_path_factory)


@pytest.fixture(scope="session")
def replan(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("replan", _build_replan, tmp_path_factory)


@pytest.fixture(scope="session")
def operators(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("operators", _build_operators, tmp_path_factory)


@pytest.fixture(scope="session")
def overflow(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("overflow", _build_overflow, tmp_path_factory)
