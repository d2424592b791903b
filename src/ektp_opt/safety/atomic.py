"""Safe outputs: ektp-opt never deletes or overwrites what it did not write, and a reader (or a
crash, or Ctrl-C) sees the old output or the complete new one, never half of one.

What ektp-opt recognises as its own:

* a **folder** (a plan, a diagnosis) is replaced only when it does not exist, is empty, or is
  exactly what ektp-opt wrote there: its marker file ``.ektp-opt`` lists every file with its
  sha256, and the folder holds nothing else and nothing changed (a user's notes saved inside, or
  an edited file, make it theirs: exit 3 naming them);
* a **file** is replaced only when it does not exist or is of the same kind as the new content and
  carries ektp-opt's signature: a PNG or PDF whose creator is ektp-opt, an HTML or JSON file with
  ektp-opt's ``generator`` tag; a file that cannot carry one (a CSV) only when it is exactly what
  ektp-opt wrote there, as the sidecar ``.NAME.ektp-opt`` beside it records (sha256), never
  because its header row matches (a registry's households file has that header too).

Anything else is an ``InputError`` (exit 3) naming the path; nothing is touched.

How a folder is replaced: the new folder is written under a hidden staging name beside the target
(``.NAME.ektp-new-PID``), then swapped with the target in one ``renameat2(RENAME_EXCHANGE)`` call
where Linux offers it (else two renames, with the old folder kept as ``.NAME.ektp-old-PID`` until the
new one is in place). The swap runs with SIGINT and SIGTERM blocked and under an ``flock`` on the
parent folder, so concurrent writers to the same target take turns and the last complete plan wins.
Leftovers of a run that was killed (SIGKILL, power loss) are cleaned by the next write to the same
target: a staging folder of a process that is gone is deleted, and an old folder left without its
target is put back.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ektp_opt.errors import InputError
from ektp_opt.safety import interrupt

MARKER = ".ektp-opt"
GENERATOR = "ektp-opt"
_SIGNED_KINDS = {  # new content's magic -> the signature an existing file of that kind must carry
    b"\x89PNG": b"Software\x00ektp-opt",
    b"%PDF": b"(ektp-opt",
}
_HTML_SIGNATURE = b'<meta name="generator" content="ektp-opt'
_JSON_SIGNATURE = b'"generator": "ektp-opt'
_SNIFF = 64 * 1024


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _os_error(path: Path, exc: OSError) -> InputError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.ENOSPC:
        reason = "no space left on the device; nothing was written"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        reason = f"cannot write here ({exc.strerror}); nothing was written"
    return InputError(path, None, reason)


# ----------------------------------------------------------------------------------------- files
def _head_tail(path: Path) -> bytes:
    """The first and last 64 KiB of a file (all of it when smaller): where signatures live."""
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
        size = os.fstat(fh.fileno()).st_size
        if size > 2 * _SNIFF:
            fh.seek(size - _SNIFF)
        return head + fh.read()


def _signed(new: bytes) -> bool:
    """Does content of this kind carry ektp-opt's signature inside it (PNG, PDF, HTML, JSON)?"""
    return (
        any(new.startswith(m) for m in _SIGNED_KINDS)
        or _HTML_SIGNATURE in new[:_SNIFF]
        or (new.lstrip().startswith(b"{"))
    )


def sidecar(path: Path) -> Path:
    """Where ektp-opt records what it wrote into a file that cannot carry a signature (a CSV):
    ``.NAME.ektp-opt`` beside it, with the sha256 of the content it wrote."""
    return path.with_name(f".{path.name}{MARKER}")


def _sidecar_hashes(path: Path) -> list[str]:
    try:
        record = json.loads(sidecar(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    if not isinstance(record, dict) or record.get("written_by") != GENERATOR:
        return []
    hashes = record.get("sha256")
    return [h for h in hashes if isinstance(h, str)] if isinstance(hashes, list) else []


def _is_ours(path: Path, new: bytes) -> bool:
    """Is the existing file ``path`` an earlier output of the same kind as ``new``? Kinds with a
    signature must carry it; any other file (a CSV) must be exactly what ektp-opt wrote there, as
    its sidecar records: a file whose header merely matches is somebody's data."""
    try:
        old = _head_tail(path)
    except OSError:
        return False
    for magic, signature in _SIGNED_KINDS.items():
        if new.startswith(magic):
            return old.startswith(magic) and signature in old
    if _HTML_SIGNATURE in new[:_SNIFF]:
        return _HTML_SIGNATURE in old
    if new.lstrip().startswith(b"{"):
        return _JSON_SIGNATURE in old[:_SNIFF]
    try:
        return not sidecar(path).is_symlink() and file_sha256(path) in _sidecar_hashes(path)
    except OSError:
        return False


def check_file_target(path: Path, new: bytes) -> None:
    """Refuse (InputError) a target that is a folder or a file ektp-opt did not write."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise InputError(path, None, f"is {kind}; give a file name to write")
    if path.exists() and not _is_ours(path, new):
        raise InputError(
            path,
            None,
            "exists and was not written by ektp-opt (or is another kind of file); "
            "choose another name or remove it yourself",
        )
    if path.parent.exists() and not path.parent.is_dir():
        raise InputError(path, None, f"{path.parent} is not a folder")


_BATCH: ContextVar[list[tuple[list[tuple[str, Path]], Path]] | None] = ContextVar("ektp_batch", default=None)


@contextmanager
def together() -> Iterator[None]:
    """Files written inside the block are committed together at its end: every one is staged
    first, then all are renamed into place with signals held back, so an interrupt leaves all the
    old outputs or all the new ones (a chart and its JSON figures never disagree)."""
    batch: list[tuple[list[tuple[str, Path]], Path]] = []
    token = _BATCH.set(batch)
    try:
        yield
        interrupt.check()
        with interrupt.deferred():
            for renames, path in batch:
                try:
                    for tmp, dest in renames:
                        os.replace(tmp, dest)
                except OSError as exc:
                    raise _os_error(path, exc) from None
                interrupt.committed(path)
    finally:
        _BATCH.reset(token)
        for renames, _path in batch:
            for tmp, _dest in renames:
                Path(tmp).unlink(missing_ok=True)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file whole: a temporary file beside it, then one rename (at the end of a
    ``together`` block when inside one)."""
    check_file_target(path, data)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".ektp-tmp", dir=path.parent)
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes private files; outputs are for sharing, so use the usual permissions.
        os.chmod(tmp, 0o666 & ~_umask())
        interrupt.check()
        renames: list[tuple[str, Path]] = []
        if not _signed(data):
            # The sidecar names the old content and the new, so that whichever is in place after
            # a crash between the two renames is still known as ektp-opt's.
            before = [file_sha256(path)] if path.is_file() else []
            record = {"written_by": GENERATOR, "sha256": [hashlib.sha256(data).hexdigest(), *before]}
            side = sidecar(path)
            side_tmp = side.with_name(f"{side.name}.{os.getpid()}.ektp-tmp")
            side_tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
            renames.append((str(side_tmp), side))
        renames.append((tmp, path))
        batch = _BATCH.get()
        if batch is not None:
            batch.append((renames, path))
            return
        with interrupt.deferred():
            for staged, dest in renames:
                os.replace(staged, dest)
            interrupt.committed(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _os_error(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: Path, figures: dict[str, Any]) -> None:
    """A JSON file of figures, tagged ``"generator": "ektp-opt ..."`` so a later run may replace it."""
    from ektp_opt import __version__

    tagged = {"generator": f"{GENERATOR} {__version__}", **{k: v for k, v in figures.items() if k != "generator"}}
    write_text_atomic(path, json.dumps(tagged, indent=2) + "\n")


# --------------------------------------------------------------------------------------- folders
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(folder: Path) -> dict[str, str]:
    """Every regular file below ``folder`` (the marker aside) by its path there: its sha256."""
    out: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel != MARKER and path.is_file() and not path.is_symlink():
                out[rel] = file_sha256(path)
    return out


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker's record, or None when there is none or it is not one ektp-opt wrote (a symlink,
    not JSON, another writer)."""
    path = folder / MARKER
    if path.is_symlink() or not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(record, dict) or record.get("written_by") != GENERATOR:
        return None
    return record


def foreign_entries(folder: Path, record: dict[str, Any]) -> list[str]:
    """What in an ektp-opt folder ektp-opt did not write, or that changed since: every entry must
    be a file the marker lists, with the same sha256 (a file of ours that is gone is no loss)."""
    listed = record.get("files")
    if not isinstance(listed, dict):
        return [f"{MARKER} (lists no files: not written by this version of ektp-opt)"]
    out = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(dirs):
            path = Path(root) / name
            if path.is_symlink():
                out.append(path.relative_to(folder).as_posix())
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            if rel == MARKER:
                continue
            if rel not in listed or path.is_symlink() or not path.is_file():
                out.append(rel)
            elif file_sha256(path) != listed[rel]:
                out.append(f"{rel} (changed since ektp-opt wrote it)")
    return out


def check_folder_target(target: Path, _locked: bool = False) -> None:
    """Refuse (InputError) a target that ektp-opt may not replace: one that is not new, empty or
    exactly an ektp-opt output (every file in it listed by its marker, unchanged). Called before
    any work starts, so that a long solve does not end in a refusal, and again just before the swap
    (then under the parent's lock, ``_locked``). The check reads the folder under a shared lock on
    its parent, so another ektp-opt swapping a new folder in is never seen half-way."""
    if not _locked and target.parent.is_dir():
        try:
            with _parent_lock(target.parent, shared=True):
                check_folder_target(target, _locked=True)
            return
        except PermissionError:
            pass  # a parent we cannot open for reading: check without the lock
    if target.is_symlink():
        raise InputError(target, None, "is a symbolic link; give a real folder to write the plan into")
    if not target.exists():
        parent = target.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise InputError(target, None, f"cannot be created: {parent} is not a folder")
        return
    if not target.is_dir():
        raise InputError(target, None, "is a file, not a folder; give a folder to write the plan into")
    try:
        if (here := _cwd()) is not None and here.is_relative_to(target.resolve()):
            raise InputError(target, None, "holds the current folder; ektp-opt will not replace it")
        record = read_marker(target)
        if record is not None:
            if record.get("kind") == "national":
                return  # updated city by city, checked by the national runner (national/run.py)
            foreign = foreign_entries(target, record)
            if foreign:
                more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
                raise InputError(
                    target,
                    None,
                    f"holds files ektp-opt did not write or that changed since: {', '.join(foreign[:3])}{more}; "
                    "move them away, or give another folder",
                )
            return
        empty = not any(target.iterdir())
    except OSError as exc:
        raise _os_error(target, exc) from None
    if not empty:
        raise InputError(
            target,
            None,
            f"is a folder ektp-opt did not write (no valid {MARKER} marker) and is not empty; "
            "give a new or empty folder, or an earlier ektp-opt output",
        )


def _cwd() -> Path | None:
    """The current folder, or None when it has been deleted (it is then inside no target)."""
    try:
        return Path.cwd().resolve()
    except FileNotFoundError:
        return None


LEFTOVER = _LEFTOVER = re.compile(r"^\.(?P<name>.+)\.ektp-(?P<kind>new|old)-(?P<pid>\d+)(?:-\w+)?$")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(target: Path) -> None:
    """Undo what a killed run left beside ``target``: delete staging folders of processes that are
    gone; put an old folder back where the swap was cut between its two renames."""
    parent = target.parent
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for entry in entries:
        m = _LEFTOVER.match(entry.name)
        if m is None or m["name"] != target.name or _alive(int(m["pid"])):
            continue
        if entry.is_symlink() or not entry.is_dir() or read_marker(entry) is None:
            continue  # named like ours but not ours (no marker ektp-opt wrote): never touched
        if m["kind"] == "old" and not target.exists():
            os.replace(entry, target)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _renameat2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_EXCHANGE = _renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system or filesystem cannot."""
    if _EXCHANGE is None:
        return False
    rc = _EXCHANGE(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


@contextmanager
def _parent_lock(parent: Path, shared: bool = False) -> Iterator[None]:
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _swap_into_place(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; the old target, if any, is deleted afterwards."""
    parent = target.parent
    interrupt.check()  # never commit after a signal: the old output stays
    old: Path | None = None
    try:
        with _parent_lock(parent), interrupt.deferred():
            clean_leftovers(target)
            check_folder_target(target, _locked=True)
            if not target.exists():
                os.rename(staging, target)
                interrupt.committed(target)
            elif _exchange(staging, target):
                interrupt.committed(target)
                old = staging  # after the exchange the staging name holds the old folder
            else:
                old = parent / f".{target.name}.ektp-old-{os.getpid()}"
                os.rename(target, old)
                try:
                    os.rename(staging, target)
                except OSError:
                    os.rename(old, target)  # put the old folder back at once
                    old = None
                    raise
                interrupt.committed(target)
    finally:  # also when a signal held back during the swap is raised as the block ends
        if old is not None and (target / MARKER).exists():
            shutil.rmtree(old, ignore_errors=True)


def marker_text(kind: str, files: dict[str, str] | None = None) -> str:
    """The marker: who wrote the folder, and (once it is complete) every file it wrote with its
    sha256, so that a later run replaces it only while it holds exactly those files."""
    from ektp_opt import __version__

    record: dict[str, Any] = {"written_by": GENERATOR, "version": __version__, "kind": kind}
    if files is not None:
        record["files"] = files
    return json.dumps(record, indent=1) + "\n"


@contextmanager
def atomic_folder(target: Path, kind: str = "plan") -> Iterator[Path]:
    """Yield a fresh staging folder; on success it replaces ``target`` whole, on any error (or
    Ctrl-C) it is removed and ``target`` is left as it was. See the module docstring."""
    target = Path(os.path.abspath(target))
    check_folder_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.ektp-new-{os.getpid()}-", dir=target.parent))
        os.chmod(staging, 0o777 & ~_umask())
        (staging / MARKER).write_text(marker_text(kind), encoding="utf-8")
    except OSError as exc:
        raise _os_error(target, exc) from None
    try:
        yield staging
        (staging / MARKER).write_text(marker_text(kind, manifest(staging)), encoding="utf-8")
        _swap_into_place(staging, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging, ignore_errors=True)
        raise _os_error(target, exc) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


__all__ = [
    "MARKER",
    "atomic_folder",
    "check_file_target",
    "check_folder_target",
    "clean_leftovers",
    "foreign_entries",
    "manifest",
    "read_marker",
    "together",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]
