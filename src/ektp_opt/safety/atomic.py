"""Safe outputs: ektp-opt never deletes or overwrites what it did not write, and a reader (or a
crash, or Ctrl-C) sees the old output or the complete new one, never half of one.

What ektp-opt recognises as its own:

* a **folder** (a plan, a diagnosis) is replaced only when it does not exist, is empty, or holds
  the marker file ``.ektp-opt`` that every folder ektp-opt writes carries;
* a **file** is replaced only when it does not exist or is of the same kind as the new content and
  carries ektp-opt's signature: a PNG or PDF whose creator is ektp-opt, an HTML or JSON file with
  ektp-opt's ``generator`` tag, a CSV whose header row is the one being written.

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
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


def _is_ours(path: Path, new: bytes) -> bool:
    """Is the existing file ``path`` an earlier output of the same kind as ``new``?"""
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
    first_new = new.split(b"\n", 1)[0].strip()
    first_old = old.split(b"\n", 1)[0].strip()
    return bool(first_new) and first_new == first_old


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


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write a file whole: a temporary file beside it, then one rename."""
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
        with interrupt.deferred():
            os.replace(tmp, path)
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
def check_folder_target(target: Path) -> None:
    """Refuse (InputError) a target that ektp-opt may not replace. Called before any work starts,
    so that a long solve does not end in a refusal, and again just before the swap."""
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
    if (target / MARKER).is_file():
        return
    try:
        empty = not any(target.iterdir())
    except OSError as exc:
        raise _os_error(target, exc) from None
    if not empty:
        raise InputError(
            target,
            None,
            f"is a folder ektp-opt did not write (no {MARKER} marker) and is not empty; "
            "give a new or empty folder, or an earlier ektp-opt output",
        )


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.ektp-(?P<kind>new|old)-(?P<pid>\d+)(?:-\w+)?$")


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
        if m["kind"] == "old" and not target.exists() and (entry / MARKER).exists():
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
def _parent_lock(parent: Path) -> Iterator[None]:
    fd = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
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
            check_folder_target(target)
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


def marker_text(kind: str) -> str:
    from ektp_opt import __version__

    return json.dumps({"written_by": GENERATOR, "version": __version__, "kind": kind}) + "\n"


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
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]
