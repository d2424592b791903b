"""The campaign's scenario, laid out again from the store (its TOML and the files it names) in a
private temporary folder, and loaded as any scenario is."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ektp_opt.inputs.scenario import LoadedScenario, load_scenario


@contextmanager
def laid_out(files: list[tuple[str, str, str]]) -> Iterator[Path]:
    """A folder holding the scenario's files; yields the scenario TOML's path."""
    with tempfile.TemporaryDirectory(prefix="ektp-campaign-") as tmp:
        root = Path(tmp)
        toml = None
        for name, role, content in files:
            path = root / name
            if root not in path.resolve().parents:  # a name from the store never leaves the folder
                path = root / Path(name).name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            if role == "scenario":
                toml = path
        assert toml is not None, "the store keeps its scenario"
        yield toml


def load_stored(files: list[tuple[str, str, str]]) -> LoadedScenario:
    """The stored scenario, loaded (its paths point into a folder that is gone afterwards: use it
    for its figures, or ``laid_out`` where a file must be read again)."""
    with laid_out(files) as toml:
        return load_scenario(toml)
