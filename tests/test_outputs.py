"""Output paths that are not plain files, checked before training; temporary
files removed on SIGTERM.

Every output goes through sgns.outputs.atomic_write: regular files are
replaced atomically beside their resolved target, anything else (devices,
FIFOs, /dev/stdout, process substitution) is written directly, as
word2vec.c's fopen() does.
"""

from __future__ import annotations

import errno
import glob
import gzip
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pytest
from conftest import child_env

from sgns import formats, outputs

WORDS = ["a", "b", "c"]
VECS = np.arange(6, dtype=np.float32).reshape(3, 2)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
POSIX = os.name == "posix"


def written(binary=False) -> bytes:
    """The bytes write_vectors produces for WORDS/VECS."""
    with tempfile.TemporaryDirectory() as d:
        formats.write_vectors(os.path.join(d, "v"), WORDS, VECS, binary=binary)
        with open(os.path.join(d, "v"), "rb") as f:
            return f.read()


def leftovers(directory) -> list[str]:
    return glob.glob(os.path.join(str(directory), ".sgns-*.tmp"))


def cli(*args, cwd, stdout=subprocess.PIPE, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sgns", *map(str, args)],
        cwd=cwd,
        env=child_env(),
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=timeout,
        **kw,
    )


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat and the dog sat on the log\n" * 40)
    return path


def train_args(corpus, output):
    return ["-train", corpus, "-output", output, "-size", "4", "-min-count", "1", "-iter", "1", "-debug", "0"]


# ---- non-regular targets are written directly, never replaced --------------------------


@pytest.mark.skipif(not (POSIX and IS_ROOT), reason="mknod of a character device needs root")
def test_character_device_is_written_not_replaced(tmp_path):
    """As root the old writer renamed a regular file over /dev/null; here a
    private copy of /dev/null (same major/minor) stands in for it."""
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    formats.write_vectors(null, WORDS, VECS)
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert os.stat(null).st_rdev == os.makedev(1, 3)
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_dev_null_stays_a_device(tmp_path, corpus):
    before = os.stat("/dev/null")
    r = cli(*train_args(corpus, "/dev/null"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout")
def test_dev_stdout_to_a_pipe(tmp_path, corpus):
    r = cli(*train_args(corpus, "/dev/stdout"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.decode().splitlines()
    assert header.split()[1] == "4" and len(rows) == int(header.split()[0])


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout")
def test_dev_stdout_to_a_file(tmp_path, corpus):
    out = tmp_path / "redirected.txt"
    with open(out, "wb") as f:
        r = cli(*train_args(corpus, "/dev/stdout"), cwd=tmp_path, stdout=f)
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[0].split()[1] == "4"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.isdir("/dev/fd"), reason="no /dev/fd (process substitution)")
def test_process_substitution(tmp_path, corpus):
    """`-output >(gzip > x)` hands the program /dev/fd/N, the write end of a pipe."""
    read_fd, write_fd = os.pipe()
    chunks = []
    reader = threading.Thread(target=lambda: chunks.append(os.fdopen(read_fd, "rb").read()))
    reader.start()
    try:
        r = cli(*train_args(corpus, f"/dev/fd/{write_fd}"), cwd=tmp_path, pass_fds=(write_fd,))
    finally:
        os.close(write_fd)
        reader.join(30)
    assert r.returncode == 0, r.stderr
    assert chunks and chunks[0].splitlines()[0].split()[1] == b"4"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_is_written_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    formats.write_vectors(fifo, WORDS, VECS)
    reader.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got == [written()]


def test_symlink_keeps_pointing_at_the_new_file(tmp_path):
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    (real_dir / "v.txt").write_text("old\n")
    link = link_dir / "v.txt"
    os.symlink(real_dir / "v.txt", link)
    formats.write_vectors(link, WORDS, VECS)
    assert os.path.islink(link)
    assert (real_dir / "v.txt").read_bytes() == written()
    assert leftovers(real_dir) == leftovers(link_dir) == []


@pytest.mark.skipif(
    not (os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK)), reason="no writable /dev/shm"
)
def test_regular_file_in_dev_shm_is_replaced_atomically():
    """/dev/shm holds ordinary files (a tmpfs): unlike /dev/stdout or
    /dev/fd/N they are replaced through a temporary file, so a failed write
    keeps the old file and a read-only one is refused."""
    directory = tempfile.mkdtemp(dir="/dev/shm", prefix="sgns-test-")
    try:
        path = os.path.join(directory, "v.txt")
        with open(path, "w") as f:
            f.write("precious\n")
        assert not outputs.inspect_output(path).direct
        with pytest.raises(RuntimeError, match="boom"), outputs.atomic_write(path) as f:
            f.write(b"half a file")
            raise RuntimeError("boom")
        assert open(path).read() == "precious\n" and leftovers(directory) == []
        before = os.stat(path).st_ino
        formats.write_vectors(path, WORDS, VECS)
        assert open(path, "rb").read() == written() and os.stat(path).st_ino != before
        os.chmod(path, 0o444)
        with pytest.raises(PermissionError, match="read-only"):
            formats.write_vectors(path, WORDS, VECS)
    finally:
        shutil.rmtree(directory)


def test_path_ending_in_a_separator_is_refused(tmp_path):
    """'-output dir/new/' wrote a file named 'new' and said it wrote 'dir/new/';
    open() refuses such a path, and so does the writer now, writing nothing."""
    with pytest.raises(IsADirectoryError, match="ends in a separator"):
        formats.write_vectors(str(tmp_path / "new") + "/", WORDS, VECS)
    assert os.listdir(tmp_path) == []


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "v.txt"
    os.symlink(tmp_path / "target.txt", link)
    formats.write_vectors(link, WORDS, VECS)
    assert os.path.islink(link) and (tmp_path / "target.txt").read_bytes() == written()


# ---- permissions ---------------------------------------------------------------------------


def test_read_only_target_is_refused_and_kept(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("precious\n")
    os.chmod(path, 0o444)
    with pytest.raises(PermissionError, match="read-only"):
        formats.write_vectors(path, WORDS, VECS)
    assert path.read_text() == "precious\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_replaced_file_keeps_mode(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("old\n")
    os.chmod(path, 0o604)
    formats.write_vectors(path, WORDS, VECS)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o604


@pytest.mark.skipif(not (POSIX and IS_ROOT), reason="chown needs root")
def test_root_replacing_keeps_owner(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("old\n")
    os.chown(path, 65534, 65534)
    formats.write_vectors(path, WORDS, VECS)
    st = os.stat(path)
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_no_temporary_in_a_read_only_directory_falls_back_in_place(tmp_path, monkeypatch):
    path = tmp_path / "v.txt"
    path.write_text("old\n")
    expected = written()

    def refuse(directory):
        raise PermissionError(errno.EACCES, "Permission denied", directory)

    monkeypatch.setattr(outputs, "_create_temporary", refuse)
    with pytest.warns(outputs.NotAtomicWarning, match="cannot create a temporary file"):
        formats.write_vectors(path, WORDS, VECS)
    assert path.read_bytes() == expected


# Root ignores permission bits; without the capabilities that let it (setpriv) it does not.
DROP_ROOT_POWERS = ["setpriv", "--inh-caps=-dac_override,-fowner", "--bounding-set=-dac_override,-fowner"]


@pytest.mark.skipif(not POSIX, reason="POSIX permissions")
def test_writable_file_in_unwritable_directory(tmp_path):
    """For real: a directory without write permission (0555) holding a
    writable file. The write falls back to writing the file in place."""
    if IS_ROOT and shutil.which("setpriv") is None:
        pytest.skip("root ignores directory permissions and setpriv is not installed")
    directory = tmp_path / "locked"
    directory.mkdir()
    target = directory / "v.txt"
    target.write_text("old\n")
    code = """
        import sys, warnings
        import numpy as np
        from sgns import formats
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            formats.write_vectors(sys.argv[1], ["a", "b", "c"], np.arange(6, dtype=np.float32).reshape(3, 2))
        print([str(x.message) for x in w])
        """
    prefix = DROP_ROOT_POWERS if IS_ROOT else []
    os.chmod(directory, 0o555)
    try:
        r = subprocess.run(
            [*prefix, sys.executable, "-c", textwrap.dedent(code), str(target)],
            cwd=tmp_path,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.chmod(directory, 0o755)
    assert r.returncode == 0, r.stderr
    assert "cannot create a temporary file" in r.stdout
    assert target.read_bytes() == written()
    assert leftovers(directory) == []


def test_rename_refused_falls_back_to_copy(tmp_path, monkeypatch):
    """A bind-mounted file cannot be renamed over (EBUSY)."""
    path = tmp_path / "v.txt"
    path.write_text("old\n")
    expected = written()

    def busy(src, dst):
        raise OSError(errno.EBUSY, "Device or resource busy", dst)

    monkeypatch.setattr(outputs.os, "replace", busy)
    with pytest.warns(outputs.NotAtomicWarning, match="cannot rename"):
        formats.write_vectors(path, WORDS, VECS)
    assert path.read_bytes() == expected
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not (sys.platform.startswith("linux") and IS_ROOT), reason="bind mounts: Linux, root")
def test_bind_mounted_output(tmp_path, corpus):
    src, dst = tmp_path / "src.txt", tmp_path / "dst.txt"
    src.write_text("old\n")
    dst.write_text("other\n")
    if subprocess.run(["mount", "--bind", str(src), str(dst)], capture_output=True).returncode != 0:
        pytest.skip("mount --bind is not permitted here")
    try:
        r = cli(*train_args(corpus, dst), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "sgns: warning:" in r.stderr.decode() and "not atomic" in r.stderr.decode()
        assert dst.read_text().splitlines()[0].split()[1] == "4"
    finally:
        subprocess.run(["umount", str(dst)], check=True)
    assert src.read_text().splitlines()[0].split()[1] == "4"
    assert leftovers(tmp_path) == []


# ---- every output path is checked before training ---------------------------------------


def test_bad_outputs_refused_before_training(tmp_path, corpus):
    """Each case must fail in well under the time training would take, with
    exit status 2 and a message naming the flag; nothing is written."""
    ro = tmp_path / "ro.txt"
    ro.write_text("keep\n")
    os.chmod(ro, 0o444)
    vocab = tmp_path / "vocab.txt"
    cases = {
        ("-output", tmp_path / "no" / "such" / "v.txt"): "does not exist",
        ("-output", tmp_path): "is a directory",
        ("-output", corpus): "is the input file",
        ("-save-vocab", corpus): "is the input file",
        ("-output", ro): "read-only",
    }
    for (flag, path), message in cases.items():
        args = train_args(corpus, tmp_path / "ok.txt")
        args[args.index("-output") + 1] = path if flag == "-output" else tmp_path / "ok.txt"
        if flag != "-output":
            args += [flag, path]
        args[args.index("-iter") + 1] = "100000"
        r = cli(*args, cwd=tmp_path, timeout=60)
        err = r.stderr.decode()
        assert r.returncode == 2, (flag, path, err)
        assert err.startswith(f"sgns: {flag}") and message in err, err
        assert "Traceback" not in err
    same = cli(*train_args(corpus, vocab), "-save-vocab", vocab, cwd=tmp_path)
    assert same.returncode == 2 and b"same file" in same.stderr
    assert not (tmp_path / "ok.txt").exists() and not vocab.exists()
    assert ro.read_text() == "keep\n"


def test_output_check_follows_symlinks_to_the_corpus(tmp_path, corpus):
    link = tmp_path / "alias.txt"
    os.symlink(corpus, link)
    before = corpus.read_bytes()
    r = cli(*train_args(corpus, link), cwd=tmp_path)
    assert r.returncode == 2 and b"is the input file" in r.stderr
    assert corpus.read_bytes() == before


def test_check_output_library_errors(tmp_path):
    target = outputs.check_output(tmp_path / "new.txt", label="-output")
    assert not target.direct and target.existing is None
    with pytest.raises(FileNotFoundError, match="-output"):
        outputs.check_output(tmp_path / "missing" / "x", label="-output")
    with pytest.raises(IsADirectoryError):
        outputs.check_output(tmp_path)
    if os.path.exists("/dev/null"):
        assert outputs.check_output("/dev/null").direct


# ---- SIGTERM leaves no temporary file behind --------------------------------------------


@pytest.mark.skipif(not POSIX, reason="signals")
def test_sigterm_during_save_removes_the_temporary(tmp_path):
    """The child writes through atomic_write, reports that the temporary
    exists, and waits: SIGTERM then must remove it and end the child by
    SIGTERM, leaving the old file as it was."""
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    code = """
        import sys, time
        from sgns import formats
        with formats.atomic_write(sys.argv[1]) as f:
            f.write(b"x" * (1 << 20))
            print("writing", flush=True)
            time.sleep(60)
        """
    p = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), str(target)],
        cwd=tmp_path,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout.readline() == b"writing\n"
    assert len(leftovers(tmp_path)) == 1
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    assert p.returncode == -signal.SIGTERM, p.stderr.read()
    assert leftovers(tmp_path) == []
    assert target.read_bytes() == b"old"


@pytest.mark.skipif(not POSIX, reason="signals")
def test_sigterm_during_gz_training_removes_the_decompressed_corpus(tmp_path):
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    corpus = tmp_path / "corpus.txt.gz"
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(300)]
    lines = [" ".join(rng.choice(words, 20)) for _ in range(20000)]
    with gzip.open(corpus, "wt", compresslevel=1) as f:
        f.write("\n".join(lines) + "\n")
    env = child_env(TMPDIR=str(scratch))
    p = subprocess.Popen(
        [sys.executable, "-m", "sgns", *train_args(corpus, tmp_path / "v.txt"), "-iter", "100000"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        os.path.getsize(f) > 0 for f in glob.glob(str(scratch / "sgns-corpus-*"))
    ):
        time.sleep(0.05)
    time.sleep(0.5)  # into training
    assert p.poll() is None, p.stderr.read()
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    assert p.returncode == -signal.SIGTERM, p.stderr.read()
    assert os.listdir(scratch) == []
    assert not (tmp_path / "v.txt").exists()


def test_terminate_raises_leaves_a_programs_own_handler_alone():
    if not hasattr(signal, "SIGTERM"):
        pytest.skip("no SIGTERM")
    mine = lambda signum, frame: None  # noqa: E731
    old = signal.signal(signal.SIGTERM, mine)
    try:
        with outputs.terminate_raises():
            assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, old)


def test_terminate_raises_restores_the_default():
    if not hasattr(signal, "SIGTERM") or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by the test runner")
    with outputs.terminate_raises():
        with outputs.terminate_raises():
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
