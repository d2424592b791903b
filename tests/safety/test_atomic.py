"""Safe outputs (atomic.py): nothing ektp-opt did not write is replaced, a folder swap is whole,
and what a killed run leaves is cleaned by the next one."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ektp_opt.cli.main import main
from ektp_opt.errors import InputError
from ektp_opt.safety import atomic
from ektp_opt.safety.atomic import MARKER, atomic_folder, write_bytes_atomic, write_text_atomic

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stderr


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_out_refuses_folders_it_did_not_write(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    scenario = tiny_city()
    docs = tmp_path / "documents"
    docs.mkdir()
    (docs / "letter.txt").write_text("mine")
    before = snapshot(tmp_path)
    for out in (tmp_path, docs, scenario.parent, scenario):  # the scenario's folder, a folder of files, a file
        code, err = run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")
        assert code == 3, err
        assert str(out) in err and "\n" not in err.strip()
    assert snapshot(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if ".ektp-" in p.name]


def test_out_replaces_empty_and_own_folders(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    scenario = tiny_city()
    out = tmp_path / "plan"
    out.mkdir()  # empty: fine
    assert run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")[0] == 0
    assert (out / MARKER).is_file() and (out / "appointments.csv").is_file()
    assert run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")[0] == 0  # its own
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_files_are_replaced_only_when_ektp_opt_wrote_them(tmp_path: Path) -> None:
    target = tmp_path / "figures.json"
    target.write_text('{"mine": 1}\n')
    with pytest.raises(InputError, match="not written by ektp-opt"):
        atomic.write_json_atomic(target, {"a": 1})
    assert target.read_text() == '{"mine": 1}\n'
    target.unlink()
    atomic.write_json_atomic(target, {"a": 1})
    atomic.write_json_atomic(target, {"a": 2})  # its own: replaced
    assert '"a": 2' in target.read_text()
    csv = tmp_path / "list.csv"
    csv.write_text("name,phone\nx,1\n")
    with pytest.raises(InputError):
        write_text_atomic(csv, "kk_id,members\n1,2\n")
    write_text_atomic(tmp_path / "new.csv", "kk_id,members\n1,2\n")
    write_text_atomic(tmp_path / "new.csv", "kk_id,members\n3,4\n")  # same header: an earlier output
    with pytest.raises(InputError, match="folder"):
        write_bytes_atomic(tmp_path, b"x")
    html = tmp_path / "notes.html"
    html.write_text("<html>my notes</html>")
    with pytest.raises(InputError):
        write_text_atomic(html, '<html><meta name="generator" content="ektp-opt"></html>')


def test_a_failed_write_leaves_the_old_folder(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("new, half")
        raise RuntimeError("boom")
    assert (out / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan"]


def test_unwritable_target_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="/dev/null"):
        write_text_atomic(Path("/dev/null/x.csv"), "a\n")
    with pytest.raises(InputError, match="/dev/null"), atomic_folder(Path("/dev/null/plan")):
        pass


KILLER = """
import os, shutil, sys
from pathlib import Path
from ektp_opt.safety import atomic
step = sys.argv[2]
if step == "after-exchange":
    shutil.rmtree = lambda *a, **k: os._exit(9)          # killed before the old folder is deleted
elif step == "between-renames":
    atomic._EXCHANGE = None                               # the two-rename fallback
    real = os.rename
    calls = []
    def rename(a, b):
        calls.append(a)
        real(a, b)
        if len(calls) == 1 and Path(b).name.startswith("."):
            os._exit(9)                                   # killed between the two renames
    os.rename = rename
with atomic.atomic_folder(Path(sys.argv[1])) as tmp:
    (tmp / "a.txt").write_text("new")
"""


@pytest.mark.parametrize("step", ["after-exchange", "between-renames"])
def test_killed_swap_is_repaired_by_the_next_run(tmp_path: Path, step: str) -> None:
    out = tmp_path / "plan"
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("old")
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    r = subprocess.run([sys.executable, str(script), str(out), step], cwd=ROOT, capture_output=True)
    assert r.returncode == 9, r.stderr
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".plan.")]
    assert left, "the kill left a hidden folder behind"
    if step == "after-exchange":
        assert (out / "a.txt").read_text() == "new"  # the swap itself was whole
    else:
        assert not out.exists()  # cut between the renames: only the old folder, hidden
    atomic.clean_leftovers(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".plan.")] == []
    assert (out / "a.txt").read_text() in ("old", "new") and (out / MARKER).is_file()


def test_concurrent_writers_take_turns(tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from ektp_opt.safety.atomic import atomic_folder
            for i in range(15):
                with atomic_folder(Path(sys.argv[1])) as tmp:
                    for name in ("a", "b", "c"):
                        (tmp / name).write_text(sys.argv[2] + str(i))
            """
        )
    )
    out = tmp_path / "plan"
    procs = [subprocess.Popen([sys.executable, str(script), str(out), tag], cwd=ROOT) for tag in ("x", "y")]
    assert [p.wait() for p in procs] == [0, 0]
    texts = {(out / n).read_text() for n in ("a", "b", "c")}
    assert len(texts) == 1  # one writer's complete folder, never a mix
    assert [p.name for p in tmp_path.iterdir() if p.name != "writer.py"] == ["plan"]
    assert os.access(out, os.W_OK)
