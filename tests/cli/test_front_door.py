"""The front door is typed (issue #27): a user's script type-checks under ``mypy --strict``
through ``ektp_opt`` alone, and the names it imports are the real ones at run time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parents[1]


def test_a_user_script_type_checks_strictly() -> None:
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(HERE / "typing" / "user_script.py")],
        capture_output=True,
        text=True,
        cwd=HERE.parent,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_front_door_name_is_importable_and_typed() -> None:
    import ektp_opt

    for name in ektp_opt.__all__:
        assert getattr(ektp_opt, name) is not None, name
    text = (HERE.parent / "src" / "ektp_opt" / "__init__.py").read_text()
    for name in ektp_opt.__all__:
        if name != "__version__":
            assert f" {name}" in text.split("if TYPE_CHECKING:")[1].split("_EXPORTS")[0], f"{name} not typed"


def test_the_literal_export_list_matches_what_is_loaded() -> None:
    import ektp_opt

    assert sorted(ektp_opt.__all__) == sorted(["__version__", *ektp_opt._EXPORTS])


def test_the_command_line_uses_the_library_through_its_front_door() -> None:
    """Issue #27: a thin CLI. Every library name a command uses comes from ``ektp_opt.api``; beside
    it only the cross-cutting rooms (errors, results, safety for outputs, plotting for pictures)
    and the CLI's own modules. Checked on every import statement, those inside functions too."""
    import ast
    from pathlib import Path

    import ektp_opt

    allowed = (
        "ektp_opt.api",
        "ektp_opt.errors",
        "ektp_opt.results",
        "ektp_opt.safety",
        "ektp_opt.plotting",
        "ektp_opt.cli",
    )
    cli = Path(ektp_opt.__file__).parent / "cli"
    wrong = []
    for path in sorted(cli.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.module != "ektp_opt" else []
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("ektp_opt") and not name.startswith(allowed):
                    wrong.append(f"{path.relative_to(cli)}:{node.lineno} {name}")
    assert wrong == []
