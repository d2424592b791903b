"""One output file, written whole and only over what ektp-opt wrote (issue #26; SPEC.md "Output",
what may be replaced): each kind of file (signed PNG, PDF, HTML, JSON; a CSV known by its
sidecar), each refusal with its words, the permissions and the sidecar's record, files committed
together, and the atomic swap of two folders the folder writer stands on."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from ektp_opt import __version__
from ektp_opt.errors import InputError
from ektp_opt.safety import atomic
from ektp_opt.safety.atomic import (
    MARKER,
    _exchange,
    _head_tail,
    _renameat2,
    check_file_target,
    marker_text,
    sidecar,
    together,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"tEXtSoftware\x00ektp-opt 1\x00" + b"\x00" * 20
PDF = b"%PDF-1.4\n/Producer (ektp-opt 1)\n%%EOF\n"
HTML = b'<!doctype html><meta name="generator" content="ektp-opt 1"><p>plan</p>'
REFUSED = (
    "exists and was not written by ektp-opt (or is another kind of file); choose another name or remove it yourself"
)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_csv_is_written_whole_with_a_sidecar_naming_old_and_new(tmp_path: Path) -> None:
    path = tmp_path / "out" / "week 3" / "invitations.csv"  # the folders are made
    write_text_atomic(path, "kk_id\nK1\n")
    assert path.read_bytes() == b"kk_id\nK1\n"
    mode = stat.S_IMODE(path.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask  # outputs are for sharing: not mkstemp's 0600
    record = json.loads(sidecar(path).read_text())
    assert record == {"written_by": "ektp-opt", "sha256": [_sha(b"kk_id\nK1\n")]}
    write_text_atomic(path, "kk_id\nK2\n")  # ours: replaced, the sidecar names the new and the old
    assert path.read_text() == "kk_id\nK2\n"
    assert json.loads(sidecar(path).read_text())["sha256"] == [_sha(b"kk_id\nK2\n"), _sha(b"kk_id\nK1\n")]
    assert _left(path.parent) == [".invitations.csv.ektp-opt", "invitations.csv"]  # no staging left


def test_a_csv_someone_edited_is_theirs(tmp_path: Path) -> None:
    path = tmp_path / "invitations.csv"
    write_text_atomic(path, "kk_id\nK1\n")
    path.write_text("kk_id\nK1\nmy note\n")
    with pytest.raises(InputError) as exc:
        write_text_atomic(path, "kk_id\nK3\n")
    assert str(exc.value) == f"{path}: {REFUSED}"
    assert path.read_text() == "kk_id\nK1\nmy note\n"


@pytest.mark.parametrize(
    "record",
    [
        '{"written_by": "someone", "sha256": ["HASH"]}',
        '{"written_by": "ektp-opt", "sha256": "HASH"}',
        '["HASH"]',
        "not json",
    ],
)
def test_a_sidecar_ektp_opt_did_not_write_protects_nothing(tmp_path: Path, record: str) -> None:
    path = tmp_path / "households.csv"
    path.write_text("kk_id\nK1\n")
    sidecar(path).write_text(record.replace("HASH", _sha(b"kk_id\nK1\n")))
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_text_atomic(path, "kk_id\nK2\n")
    assert path.read_text() == "kk_id\nK1\n"


def test_a_sidecar_that_is_a_link_protects_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    write_text_atomic(path, "x\n")
    real = tmp_path / "elsewhere.json"
    real.write_text(sidecar(path).read_text())
    sidecar(path).unlink()
    sidecar(path).symlink_to(real)
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_text_atomic(path, "y\n")


@pytest.mark.parametrize(
    ("ours", "theirs"), [(PNG, b"\x89PNG\r\n\x1a\nsomeone's picture"), (PDF, b"%PDF-1.4 a report")]
)
def test_signed_kinds_carry_their_signature(tmp_path: Path, ours: bytes, theirs: bytes) -> None:
    """A chart or a report is ours when it carries the signature; no sidecar is written for it."""
    path = tmp_path / "chart"
    write_bytes_atomic(path, ours)
    write_bytes_atomic(path, ours + b"again")
    assert path.read_bytes() == ours + b"again" and not sidecar(path).exists()
    path.write_bytes(theirs)
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_bytes_atomic(path, ours)
    path.write_text("kk_id\n")  # another kind of file under the name: refused as well
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_bytes_atomic(path, ours)
    path.write_bytes(b"kk_id\n" + ours)  # the signature without the kind's magic: not ours either
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_bytes_atomic(path, ours)


def test_html_and_json_are_known_by_their_generator_tag(tmp_path: Path) -> None:
    page, figures = tmp_path / "campaign.html", tmp_path / "front.json"
    write_bytes_atomic(page, HTML)
    write_bytes_atomic(page, HTML + b"<p>again</p>")
    assert not sidecar(page).exists()
    page.write_bytes(b"<!doctype html><p>the registry's page</p>")
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_bytes_atomic(page, HTML)
    write_json_atomic(figures, {"generator": "someone", "moves": 3})
    data = json.loads(figures.read_text())
    assert list(data) == ["generator", "moves"] and data == {"generator": f"ektp-opt {__version__}", "moves": 3}
    assert figures.read_text() == json.dumps(data, indent=2) + "\n" and not sidecar(figures).exists()
    write_json_atomic(figures, {"moves": 4})
    indented = tmp_path / "indented.json"  # JSON after blank lines is still signed by its tag
    write_bytes_atomic(indented, b'\n  {"generator": "ektp-opt 1"}\n')
    assert not sidecar(indented).exists()
    write_bytes_atomic(indented, b'{"generator": "ektp-opt 2"}\n')
    write_bytes_atomic(indented, b'\n{"generator": "ektp-opt 3"}\n')  # ours, known by its tag again
    figures.write_text('{"moves": 5}\n')
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_json_atomic(figures, {"moves": 6})


def test_a_signature_at_the_end_of_a_large_file_is_found(tmp_path: Path) -> None:
    """Only the first and last 64 KiB are read: a PDF's producer line at its end still counts."""
    path = tmp_path / "report.pdf"
    body = b"%PDF-1.4\n" + b"x" * 300_000 + b"\n(ektp-opt 1)\n%%EOF\n"
    path.write_bytes(body)
    assert _head_tail(path) == body[: 64 * 1024] + body[-64 * 1024 :]
    small = tmp_path / "small"
    small.write_bytes(b"abc" * 1000)
    assert _head_tail(small) == b"abc" * 1000
    middle = tmp_path / "middle"  # between two and three windows: still the first and the last
    middle.write_bytes(bytes(range(256)) * 600)
    assert _head_tail(middle) == middle.read_bytes()[: 64 * 1024] + middle.read_bytes()[-64 * 1024 :]
    edge = tmp_path / "edge"
    edge.write_bytes(b"e" * (2 * 64 * 1024))
    assert _head_tail(edge) == b"e" * (2 * 64 * 1024)
    write_bytes_atomic(path, PDF)  # the old one is ours: replaced
    assert path.read_bytes() == PDF


def test_targets_that_are_no_file_are_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "nowhere.csv")
    parent_file = tmp_path / "notes.txt"
    parent_file.write_text("mine")
    said = []
    for path in (folder, link, parent_file / "x.csv"):
        with pytest.raises(InputError) as exc:
            check_file_target(path, b"kk_id\n")
        said.append(str(exc.value))
    assert said == [
        f"{folder}: is a folder; give a file name to write",
        f"{link}: is not a regular file; give a file name to write",
        f"{parent_file / 'x.csv'}: {parent_file} is not a folder",
    ]
    check_file_target(tmp_path / "new.csv", b"kk_id\n")  # a new name is fine


def test_files_written_together_land_together(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    with together():
        write_text_atomic(a, "1\n")
        write_text_atomic(b, "2\n")
        assert not a.exists() and not b.exists()  # staged until the block ends
    assert a.read_text() == "1\n" and b.read_text() == "2\n"
    with pytest.raises(RuntimeError), together():
        write_text_atomic(a, "3\n")
        raise RuntimeError("cut")
    assert a.read_text() == "1\n" and b.read_text() == "2\n"
    assert _left(tmp_path) == [".a.csv.ektp-opt", ".b.csv.ektp-opt", "a.csv", "b.csv"]


def test_a_write_that_fails_leaves_nothing_staged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.csv"
    write_text_atomic(path, "old\n")

    def full(*_a: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError) as exc:
        write_text_atomic(path, "new\n")
    assert str(exc.value) == f"{path}: no space left on the device; nothing was written"
    assert path.read_text() == "old\n" and _left(tmp_path) == [".a.csv.ektp-opt", "a.csv"]


def test_two_folders_are_swapped_in_one_step(tmp_path: Path) -> None:
    """renameat2 with RENAME_EXCHANGE, as the folder writer uses it for the final swap."""
    assert _renameat2() is not None  # glibc 2.28+: every machine this project runs on
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("in a")
    (b / "y").write_text("in b")
    assert _exchange(a, b) is True
    assert _left(a) == ["y"] and _left(b) == ["x"]
    with pytest.raises(OSError) as exc:
        _exchange(a, tmp_path / "missing")
    assert exc.value.errno == errno.ENOENT and exc.value.filename == str(tmp_path / "missing")
    assert _left(a) == ["y"]


def test_a_file_that_cannot_be_read_is_not_taken_for_ours(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the old file fails (root reads everything, so the failure is made here): it is
    treated as somebody's, never replaced."""
    from ektp_opt.safety import atomic

    chart, table = tmp_path / "chart.png", tmp_path / "a.csv"
    write_bytes_atomic(chart, PNG)
    write_text_atomic(table, "x\n")

    def unreadable(_path: Path) -> bytes:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic, "_head_tail", unreadable)
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_bytes_atomic(chart, PNG)
    monkeypatch.undo()
    monkeypatch.setattr(atomic, "file_sha256", unreadable)
    with pytest.raises(InputError, match="was not written by ektp-opt"):
        write_text_atomic(table, "y\n")


# --- the pieces the writers stand on --------------------------------------------------------------


def test_os_errors_are_said_plainly() -> None:
    from ektp_opt.safety.atomic import _os_error

    said = [
        str(_os_error(Path("out.csv"), exc))
        for exc in (
            OSError(errno.ENOSPC, "No space left on device"),
            OSError(errno.EROFS, "Read-only file system"),
            OSError(errno.EACCES, "Permission denied"),
            OSError(errno.EIO, "Input/output error"),
            OSError(),
        )
    ]
    assert said == [
        "out.csv: no space left on the device; nothing was written",
        "out.csv: cannot write here (Read-only file system); nothing was written",
        "out.csv: cannot write here (Permission denied); nothing was written",
        "out.csv: Input/output error",
        "out.csv: OSError",
    ]


def test_the_staging_file_is_beside_the_target_and_named_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged in the target's own folder (a rename across filesystems is not atomic), under a
    hidden name that says whose it is; the commit is recorded for the interrupt message."""
    from ektp_opt.safety import interrupt

    staged: list[tuple[str, str]] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (staged.append((str(a), str(b))), real(a, b))[1])
    before = len(interrupt._committed)
    path = tmp_path / "figures.json"
    write_json_atomic(path, {"x": 1})
    ((tmp, dest),) = staged
    assert dest == str(path) and Path(tmp).parent == tmp_path
    assert Path(tmp).name.startswith(".figures.json.") and tmp.endswith(".ektp-tmp")
    assert interrupt._committed[before:] == [path]


def test_a_staging_file_that_cannot_be_made_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    with pytest.raises(InputError) as exc:
        write_text_atomic(tmp_path / "a.csv", "x\n")
    assert str(exc.value) == f"{tmp_path / 'a.csv'}: no space left on the device; nothing was written"


def test_renameat2_itself_swaps_and_reports_errno(tmp_path: Path) -> None:
    import ctypes

    fn = _renameat2()
    assert fn is not None
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("")
    assert fn(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0 and _left(b) == ["x"]
    assert fn(-100, os.fsencode(a), -100, os.fsencode(tmp_path / "none"), 2) == -1
    assert ctypes.get_errno() == errno.ENOENT


def test_where_the_system_cannot_exchange_the_caller_is_told(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No renameat2, or a filesystem that refuses RENAME_EXCHANGE: False, so the writer falls back
    to two renames; any other failure is an OSError naming the target and its reason."""
    import ctypes

    from ektp_opt.safety import atomic

    monkeypatch.setattr(atomic, "_EXCHANGE", None)
    assert atomic._exchange(tmp_path, tmp_path) is False
    for err, answer in ((errno.EINVAL, False), (errno.ENOSYS, False), (errno.EOPNOTSUPP, False)):

        def refuse(*_a: object, e: int = err) -> int:
            ctypes.set_errno(e)
            return -1

        monkeypatch.setattr(atomic, "_EXCHANGE", refuse)
        assert atomic._exchange(tmp_path / "a", tmp_path / "b") is answer

    def busy(*_a: object) -> int:
        ctypes.set_errno(errno.EBUSY)
        return -1

    monkeypatch.setattr(atomic, "_EXCHANGE", busy)
    with pytest.raises(OSError) as exc:
        atomic._exchange(tmp_path / "a", tmp_path / "b")
    assert (exc.value.errno, exc.value.strerror, exc.value.filename) == (
        errno.EBUSY,
        os.strerror(errno.EBUSY),
        str(tmp_path / "b"),
    )


def test_folders_are_replaced_by_two_renames_where_exchange_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback swap: the old folder aside, the new one in, the old one deleted; a failed
    second rename puts the old folder back at once."""
    from ektp_opt.safety import atomic, interrupt

    monkeypatch.setattr(atomic, "_exchange", lambda _a, _b: False)
    target = tmp_path / "plan"
    before = len(interrupt._committed)
    for text in ("first", "second"):
        with atomic.atomic_folder(target) as stage:
            (stage / "a.csv").write_text(text)
    assert (target / "a.csv").read_text() == "second" and _left(tmp_path) == ["plan"]
    assert interrupt._committed[before:] == [target, target]
    real = os.rename

    def fail_second(a: object, b: object) -> None:
        if ".ektp-new-" in str(a):
            raise OSError(errno.EIO, "Input/output error")
        real(a, b)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", fail_second)
    with pytest.raises(InputError, match="Input/output error"), atomic.atomic_folder(target) as stage:
        (stage / "a.csv").write_text("third")
    assert (target / "a.csv").read_text() == "second" and _left(tmp_path) == ["plan"]


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_process_is_alive_until_it_is_gone_and_is_never_signalled(monkeypatch: pytest.MonkeyPatch) -> None:
    import signal
    import subprocess
    import sys

    from ektp_opt.safety.atomic import _alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert _alive(child.pid) and _alive(os.getpid())
        # asked, not hit: no signal pending, and not a zombie (read from /proc, no waiting)
        status = dict(
            line.split(":", 1) for line in Path(f"/proc/{child.pid}/status").read_text().splitlines() if ":" in line
        )
        assert not status["State"].strip().startswith("Z")
        assert int(status["ShdPnd"], 16) == 0 and int(status["SigPnd"], 16) == 0
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert not _alive(_dead_pid())

    def not_ours(_pid: int, _sig: int) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "kill", not_ours)
    assert _alive(12345)  # somebody else's process: alive, never touched


def test_leftovers_of_a_killed_run_are_undone_and_only_those(tmp_path: Path) -> None:
    """A killed run's staging folder is deleted; its old folder is put back when the target is
    gone; a folder or a link merely named like them, or one of a live process, is never touched."""
    from ektp_opt.safety.atomic import MARKER, clean_leftovers, marker_text

    dead, target = _dead_pid(), tmp_path / "plan"

    def leftover(name: str, marked: bool = True) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        if marked:
            (folder / MARKER).write_text(marker_text("plan"))
        return folder

    staging = leftover(f".plan.ektp-new-{dead}-abc")
    mine = leftover(f".plan.ektp-new-{os.getpid()}-abc")
    foreign = leftover(f".plan.ektp-old-{dead}", marked=False)
    other = leftover(f".other.ektp-new-{dead}")
    clean_leftovers(target)
    assert not staging.exists() and mine.exists() and foreign.exists() and other.exists()
    assert not target.exists()  # a staging folder is never taken for the output
    foreign.rename(tmp_path / "kept")
    old = leftover(f".plan.ektp-old-{dead}")
    (old / "a.csv").write_text("the plan before the kill")
    link = tmp_path / f".plan.ektp-old-{dead + 1}"
    link.symlink_to(tmp_path / "kept")
    clean_leftovers(target)
    assert (target / "a.csv").read_text() == "the plan before the kill" and not old.exists()
    assert link.is_symlink() and (tmp_path / "kept").is_dir()


def test_what_ektp_opt_did_not_write_in_its_folder_is_found(tmp_path: Path) -> None:
    from ektp_opt.safety.atomic import MARKER, check_folder_target, foreign_entries, manifest, marker_text, read_marker

    folder = tmp_path / "plan"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.csv").write_text("a")
    (folder / "sub" / "b.csv").write_text("b")
    (folder / MARKER).write_text(marker_text("plan", manifest(folder)))
    record = read_marker(folder)
    assert record is not None and set(record["files"]) == {"a.csv", "sub/b.csv"}
    assert foreign_entries(folder, record) == []
    (folder / "a.csv").write_text("edited")
    (folder / "notes.txt").write_text("mine")
    (folder / "link.csv").symlink_to(folder / "notes.txt")
    (folder / "linked").symlink_to(tmp_path)
    assert foreign_entries(folder, record) == [
        "linked",
        "a.csv (changed since ektp-opt wrote it)",
        "link.csv",
        "notes.txt",
    ]
    assert "link.csv" not in manifest(folder) and MARKER not in manifest(folder)
    assert foreign_entries(folder, {"written_by": "ektp-opt"}) == [
        f"{MARKER} (lists no files: not written by this version of ektp-opt)"
    ]
    national = tmp_path / "national"
    national.mkdir()
    (national / MARKER).write_text(marker_text("national"))
    (national / "master.json").write_text("{}")
    check_folder_target(national)  # written city by city: the national runner checks it
    (national / MARKER).unlink()
    (national / MARKER).symlink_to(folder / MARKER)
    assert read_marker(national) is None


def test_a_folder_written_is_recorded_for_the_interrupt_message(tmp_path: Path) -> None:
    """New (a rename) and replaced (an exchange): both commits are recorded, the old folder gone."""
    from ektp_opt.safety import interrupt
    from ektp_opt.safety.atomic import atomic_folder

    target = tmp_path / "plan"
    before = len(interrupt._committed)
    for text in ("first", "second"):
        with atomic_folder(target) as stage:
            (stage / "a.csv").write_text(text)
    assert interrupt._committed[before:] == [target, target]
    assert (target / "a.csv").read_text() == "second" and _left(tmp_path) == ["plan"]


def test_folder_targets_are_refused_in_their_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ektp_opt.safety.atomic import MARKER, check_folder_target, manifest, marker_text

    def said(target: Path) -> str:
        with pytest.raises(InputError) as exc:
            check_folder_target(target)
        return str(exc.value)

    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    theirs = tmp_path / "documents"
    theirs.mkdir()
    (theirs / "letter.doc").write_text("")
    ours = tmp_path / "plan"
    ours.mkdir()
    (ours / "a.csv").write_text("a")
    (ours / MARKER).write_text(marker_text("plan", manifest(ours)))
    for n in range(5):
        (ours / f"mine{n}.txt").write_text("")
    assert said(link) == f"{link}: is a symbolic link; give a real folder to write the plan into"
    assert said(a_file / "deep" / "plan") == f"{a_file / 'deep' / 'plan'}: cannot be created: {a_file} is not a folder"
    assert said(a_file) == f"{a_file}: is a file, not a folder; give a folder to write the plan into"
    assert said(theirs) == (
        f"{theirs}: is a folder ektp-opt did not write (no valid {MARKER} marker) and is not empty; "
        "give a new or empty folder, or an earlier ektp-opt output"
    )
    assert said(ours) == (
        f"{ours}: holds files ektp-opt did not write or that changed since: mine0.txt, mine1.txt, mine2.txt "
        "and 2 more; move them away, or give another folder"
    )
    (ours / "mine4.txt").unlink()
    assert said(ours).endswith(
        "since: mine0.txt, mine1.txt, mine2.txt and 1 more; move them away, or give another folder"
    )
    (ours / "mine3.txt").unlink()
    assert said(ours).endswith("since: mine0.txt, mine1.txt, mine2.txt; move them away, or give another folder")
    (ours / "mine2.txt").unlink()
    assert said(ours).endswith("since: mine0.txt, mine1.txt; move them away, or give another folder")
    monkeypatch.chdir(ours)
    assert said(ours) == f"{ours}: holds the current folder; ektp-opt will not replace it"
    check_folder_target(tmp_path / "new" / "deeper" / "plan")  # folders yet to be made: fine


# --- what a folder writer must never do to what is not its own, and what it must not fail on


def _cannot_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file deletion fails (a file held open on a network share, say)."""

    def refuse(*_a: object, **_k: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "unlink", refuse)


def test_an_old_folder_that_cannot_be_deleted_does_not_fail_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new folder is in place once swapped: deleting the old copy is tidying, and when it fails
    the write still succeeds (the copy is left beside it)."""
    out = tmp_path / "plan"
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("old")
    with monkeypatch.context() as m:
        _cannot_delete(m)
        with atomic.atomic_folder(out) as tmp:
            (tmp / "a.txt").write_text("new")
    assert (out / "a.txt").read_text() == "new"
    (left,) = [p for p in tmp_path.iterdir() if p.name != "plan"]
    assert (left / "a.txt").read_text() == "old"


def test_leftovers_that_cannot_be_deleted_are_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A staging folder of a run that is gone, which cannot be deleted: cleaning up goes on
    without an error (the next run tries again)."""
    target = tmp_path / "plan"
    stale = tmp_path / f".plan.ektp-new-{_dead_pid()}-x"
    stale.mkdir()
    (stale / MARKER).write_text(marker_text("plan"))
    (stale / "a.txt").write_text("half")
    _cannot_delete(monkeypatch)
    atomic.clean_leftovers(target)
    assert (stale / "a.txt").read_text() == "half"


def test_a_leftover_name_on_a_link_is_never_put_in_place(tmp_path: Path) -> None:
    """A symbolic link named like an old folder of a dead run, pointing at a folder with a marker:
    not ours (a link), so it is not moved to the target, and what it points at is untouched."""
    target = tmp_path / "plan"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / MARKER).write_text(marker_text("plan"))
    (elsewhere / "a.txt").write_text("kept")
    link = tmp_path / f".plan.ektp-old-{_dead_pid()}"
    link.symlink_to(elsewhere)
    atomic.clean_leftovers(target)
    assert not target.exists() and link.is_symlink() and (elsewhere / "a.txt").read_text() == "kept"


def test_a_listed_file_replaced_by_a_link_is_foreign(tmp_path: Path) -> None:
    """A file of ours swapped for a link to a copy with the same content: a link is nobody's file
    to replace, and the folder is refused naming it."""
    out = tmp_path / "plan"
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("same")
    copy = tmp_path / "copy.txt"
    copy.write_text("same")
    (out / "a.txt").unlink()
    (out / "a.txt").symlink_to(copy)
    with pytest.raises(InputError) as exc:
        atomic.check_folder_target(out)
    assert "changed since: a.txt;" in str(exc.value)


@pytest.mark.parametrize("record", ['{"written_by": "another tool", "files": {}}', "[1, 2]", '"ektp-opt"'])
def test_a_marker_another_writer_made_is_no_marker(tmp_path: Path, record: str) -> None:
    (tmp_path / MARKER).write_text(record)
    assert atomic.read_marker(tmp_path) is None


def test_a_folder_checked_from_a_deleted_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The current folder was deleted under the command (a shell left in a removed folder): it is
    inside no target, and an earlier output is replaced as usual."""
    out = tmp_path / "plan"
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("x")
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    atomic.check_folder_target(out)
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("y")
    assert (out / "a.txt").read_text() == "y"


def test_a_disk_error_while_checking_a_folder_is_said_about_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a file of an earlier output fails (a disk error): an input error about the target,
    in the words of the other disk errors, not a traceback."""
    out = tmp_path / "plan"
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("x")

    def broken(_path: Path) -> str:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(atomic, "file_sha256", broken)
    with pytest.raises(InputError) as exc:
        atomic.check_folder_target(out)
    assert str(exc.value) == str(atomic._os_error(out, OSError(errno.EIO, "Input/output error")))
    assert str(exc.value).startswith(f"{out}: ")


def test_a_signal_held_through_the_renames_is_raised_after_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C held back while a file is renamed into place comes out when the renames are done:
    the new file is in place, and the interrupt (not a cleanup error) is what the caller gets."""
    path = tmp_path / "a.csv"
    write_text_atomic(path, "old\n")

    def interrupted(_path: Path) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.interrupt, "committed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_text_atomic(path, "new\n")
    assert path.read_text() == "new\n"


def test_checks_read_together_and_wait_for_a_swap(tmp_path: Path) -> None:
    """The check takes a shared lock on the parent: it runs while another check holds one, and
    waits while a writer holds the exclusive lock of its swap (it cannot finish while the lock
    is held; it finishes once it is released)."""
    import threading

    out = tmp_path / "plan"
    with atomic.atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("x")
    for shared in (True, False):
        with atomic._parent_lock(tmp_path, shared=shared):
            check = threading.Thread(target=atomic.check_folder_target, args=(out,), daemon=True)
            check.start()
            check.join(timeout=30 if shared else 1)
            assert check.is_alive() is not shared, shared
        check.join(timeout=60)
        assert not check.is_alive()
