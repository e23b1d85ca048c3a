"""Writing output files safely, whatever the output path names.

A regular file (or a new path) is written atomically: a temporary file beside
the *resolved* target (symbolic links followed, so a link keeps pointing at
the new file), flushed, fsynced and renamed over it, with the old file's
permissions. Anything else -- a device such as /dev/null, a FIFO, /dev/stdout,
a shell's process substitution (/dev/fd/63) -- is opened and written directly,
as word2vec.c's fopen(..., "wb") does: renaming over it would replace the
device or pipe with a plain file.

Where an atomic rename cannot be done (a writable file in a directory we may
not write, a bind-mounted file that refuses rename with EBUSY) the file is
written in place and a NotAtomicWarning says so. A target without any write
permission bit is refused rather than silently replaced.

check_output() runs the same checks without writing, so a command can refuse
a bad output path before hours of training instead of after.

SIGTERM while a temporary file exists removes it and then ends the process by
SIGTERM as before (terminate_raises).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

# Errors of write()/fsync() itself (a full disk, a size limit, a failing device).
_WRITE_ERRNOS = {getattr(errno, n) for n in ("EFBIG", "ENOSPC", "EDQUOT", "EIO") if hasattr(errno, n)}
# Creating the temporary file failed for want of permission on the directory.
_NO_TEMP_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}
# rename() over the target refused although the target itself is writable.
_NO_RENAME_ERRNOS = {errno.EBUSY, errno.EXDEV, errno.EPERM, errno.EACCES}
# Paths whose files are views of a process's descriptors or devices: never renamed over.
_DEVICE_DIRS = ("/dev/", "/proc/")
# ... except the POSIX shared-memory tmpfs, whose regular files are ordinary files.
_FILE_DIRS_IN_DEV = ("/dev/shm/",)


class NotAtomicWarning(UserWarning):
    """An output file was written in place, not through a temporary file and a rename."""


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived inside terminate_raises(). It unwinds like Ctrl-C (workers
    stop, `finally` clauses remove temporary files); the process then ends by
    SIGTERM, as it would have without sgns."""


# ---- SIGTERM: unwind, clean up, then end as SIGTERM would ---------------------------------

_sigterm = {"depth": 0, "received": False}


def _raise_terminated(signum, frame) -> None:
    _sigterm["received"] = True
    raise Terminated("terminated by SIGTERM")


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """Within this block (main thread, default SIGTERM handling only), SIGTERM
    raises Terminated so that temporary files are removed; when the outermost
    block is left after one, the process is ended by SIGTERM. A program that
    set its own SIGTERM handler keeps it untouched."""
    usable = hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread()
    if not usable or (_sigterm["depth"] == 0 and signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return
    if _sigterm["depth"] == 0:
        _sigterm["received"] = False
        signal.signal(signal.SIGTERM, _raise_terminated)
    _sigterm["depth"] += 1
    try:
        yield
    finally:
        _sigterm["depth"] -= 1
        if _sigterm["depth"] == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            if _sigterm["received"]:
                os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def scratch_copy(
    open_source: Callable[[], contextlib.AbstractContextManager[IO[bytes]]], prefix: str
) -> Iterator[str]:
    """Copy the stream open_source() returns to a temporary file in $TMPDIR and
    yield its path. The file is removed when the block is left in any way:
    normally, by an error, by Ctrl-C, or by SIGTERM (terminate_raises)."""
    with terminate_raises():
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".txt")
        try:
            with os.fdopen(fd, "wb") as out, open_source() as src:
                shutil.copyfileobj(src, out, 1 << 20)
            yield tmp
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# ---- what an output path names ------------------------------------------------------------


@dataclass(frozen=True)
class OutputTarget:
    """An output path, inspected: `resolved` has symbolic links followed;
    `direct` targets (devices, FIFOs, /dev/*, /proc/*) are opened and written
    as they are; the others are replaced atomically. `existing` is the
    stat of the file there now, if any."""

    path: str
    resolved: str
    direct: bool
    existing: os.stat_result | None


def inspect_output(path) -> OutputTarget:
    """Classify an output path, or raise the OSError that writing it would
    meet (a directory, a missing directory, a read-only file, a directory
    we may not create files in)."""
    text = os.fsdecode(os.fspath(path))
    if not text:
        raise FileNotFoundError(errno.ENOENT, "empty output path", text)
    resolved = os.path.realpath(text)
    try:
        existing = os.stat(text)
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", text)
    if text.endswith(("/", os.sep)):  # open() would refuse it; a rename would drop the slash
        raise IsADirectoryError(errno.EISDIR, "names a directory (it ends in a separator)", text)
    absolute = os.path.abspath(text)
    direct = existing is not None and (
        not stat.S_ISREG(existing.st_mode)
        or (absolute.startswith(_DEVICE_DIRS) and not absolute.startswith(_FILE_DIRS_IN_DEV))
    )
    target = OutputTarget(text, resolved, direct, existing)
    _check_permissions(target)
    return target


def _check_permissions(target: OutputTarget) -> None:
    directory = os.path.dirname(target.resolved) or "."
    if target.existing is None:
        if not os.path.isdir(directory):
            raise FileNotFoundError(errno.ENOENT, f"directory {directory!r} does not exist", target.path)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, f"cannot create files in {directory!r}", target.path)
        return
    if target.direct:
        if not os.access(target.path, os.W_OK):
            raise PermissionError(errno.EACCES, "not writable", target.path)
        return
    mode = target.existing.st_mode
    # root may write anything: a file without any write bit is refused all the same, as a
    # file somebody meant to protect, instead of being silently replaced.
    if not mode & 0o222 or not os.access(target.resolved, os.W_OK):
        raise PermissionError(
            errno.EACCES,
            f"file is read-only (mode {stat.S_IMODE(mode):04o}); remove it or make it writable first",
            target.path,
        )


def check_output(path, *, label: str = "output", inputs: Sequence = ()) -> OutputTarget:
    """Check, before any work, that `path` can be written and is none of
    `inputs` (the corpus, a vocabulary being read). Raises OSError/ValueError
    naming `label` (e.g. "-output")."""
    try:
        target = inspect_output(path)
    except OSError as e:
        e.strerror = f"{label} {os.fsdecode(path)}: {e.strerror}"
        raise
    for other in inputs:
        if other and _same_file(target.path, other):
            raise ValueError(
                f"{label} {target.path!r} is the input file {os.fsdecode(other)!r}: refusing to overwrite it"
            )
    return target


def _same_file(a, b) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


# ---- writing ----------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb") -> Iterator[IO]:
    """Open `path` for writing. A regular file or a new path gets a temporary
    file beside its resolved target, fsynced and renamed over it on success,
    removed on any error (the old file is then untouched); a device, FIFO or
    /dev/* or /proc/* path (not /dev/shm's files) is written directly. See the module docstring."""
    target = inspect_output(path)
    with terminate_raises():
        try:
            if target.direct:
                with _direct(target, mode) as f:
                    yield f
            else:
                with _replacing(target, mode) as f:
                    yield f
        except OSError as e:
            if e.filename is None and e.errno in _WRITE_ERRNOS:
                # write() and fsync() errors name no file: say which one failed
                raise OSError(e.errno, f"{e.strerror} (writing {target.path})", target.path) from e
            raise


@contextlib.contextmanager
def _direct(target: OutputTarget, mode: str) -> Iterator[IO]:
    with open(target.path, mode) as f:
        yield f
        f.flush()


@contextlib.contextmanager
def _replacing(target: OutputTarget, mode: str) -> Iterator[IO]:
    directory = os.path.dirname(target.resolved) or "."
    try:
        fd, tmp = _create_temporary(directory)
    except OSError as e:
        if e.errno not in _NO_TEMP_ERRNOS or target.existing is None:
            raise
        _warn_in_place(target, f"cannot create a temporary file in {directory!r} ({e.strerror})")
        with _in_place(target, mode) as f:
            yield f
        return
    try:
        _copy_ownership(fd, target.existing)
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        _rename_or_copy(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


@contextlib.contextmanager
def _in_place(target: OutputTarget, mode: str) -> Iterator[IO]:
    with open(target.resolved, mode) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def _rename_or_copy(tmp: str, target: OutputTarget) -> None:
    try:
        os.replace(tmp, target.resolved)
    except OSError as e:
        if e.errno not in _NO_RENAME_ERRNOS or target.existing is None:
            raise
        _warn_in_place(target, f"cannot rename over it ({e.strerror})")
        with open(tmp, "rb") as src, open(target.resolved, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())


def _warn_in_place(target: OutputTarget, why: str) -> None:
    warnings.warn(
        f"{target.path}: {why}; writing the file in place "
        "(not atomic: an interrupted write leaves it cut short)",
        NotAtomicWarning,
        stacklevel=5,
    )


def _copy_ownership(fd: int, existing: os.stat_result | None) -> None:
    """The new file gets the replaced file's permissions (and, for root, its
    owner); a new file keeps 0666 less the umask, as open() would give it."""
    if existing is None:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "fchown") and hasattr(os, "geteuid") and os.geteuid() == 0:
        with contextlib.suppress(OSError):
            os.fchown(fd, existing.st_uid, existing.st_gid)


def _create_temporary(directory: str) -> tuple[int, str]:
    """Create a new, empty `.sgns-*.tmp` file in directory. Not mkstemp:
    its mode 0600 would have to be widened by reading the umask, which
    os.umask can only do by changing it for every thread for a moment."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = os.path.join(directory, f".sgns-{os.urandom(8).hex()}.tmp")
        try:
            return os.open(name, flags, 0o666), name
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {directory}")
