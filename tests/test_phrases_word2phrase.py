"""`sgns phrase` against word2vec.c's word2phrase: byte-identical output."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL8, find_tool

from sgns import cli, phrasecount


@pytest.fixture(scope="module")
def word2phrase() -> str:
    return find_tool("word2phrase") or pytest.skip(
        "word2vec.c's word2phrase not found (pip install word2vec==0.11.1)"
    )


def reference(word2phrase, src, dst, *flags) -> bytes:
    # word2phrase keeps file names in 60-byte buffers: run it in the file's directory.
    subprocess.run(
        [word2phrase, "-train", src.name, "-output", dst.name, "-debug", "0", *flags],
        cwd=src.parent,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return dst.read_bytes()


def ours(src, dst, *flags) -> bytes:
    assert cli.main(["phrase", "-train", str(src), "-output", str(dst), "-debug", "0", *flags]) == 0
    return dst.read_bytes()


def messy_text(seed: int, lines: int = 4000) -> bytes:
    """Text with every reading rule of word2phrase in play: tabs, CR inside
    and between words, CR-only runs, empty lines, a literal "</s>", words
    longer than 58 bytes (sharing their first 58), NUL bytes, a few very
    frequent pairs, and no newline at the end."""
    rng = random.Random(seed)
    base = [f"w{i}" for i in range(60)] + ["new", "york", "holy", "ghost", "a" * 70 + "x", "a" * 70 + "y"]
    base += ["nu\0ll", "\0lead", "cr\rmid", "</s>", "ends\r"]
    out = []
    for _ in range(lines):
        words = []
        for _ in range(rng.randint(0, 14)):
            r = rng.random()
            words += ["new", "york"] if r < 0.15 else ["holy", "ghost"] if r < 0.25 else [rng.choice(base)]
        seps = [rng.choice([" ", " ", " ", "\t", " \r ", "  "]) for _ in words]
        line = "".join(w + s for w, s in zip(words, seps)).rstrip(" ")
        out.append(line + rng.choice(["\n", "\n", "\r\n", "\n\n"]))
    return "".join(out).encode("latin-1").rstrip(b"\n") + b" tail"


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("flags", [("-threshold", "1", "-min-count", "2"), ("-threshold", "5")])
def test_messy_text_identical(word2phrase, tmp_path, monkeypatch, threads, flags):
    monkeypatch.setattr(phrasecount, "MIN_RANGE_BYTES", 1000)  # many byte ranges on a small file
    src = tmp_path / "messy.txt"
    src.write_bytes(messy_text(threads))
    want = reference(word2phrase, src, tmp_path / "ref.txt", *flags)
    got = ours(src, tmp_path / "ours.txt", "-threads", str(threads), *flags)
    assert b"_" in want and b"new_york" in want
    assert got == want


def test_small8_two_passes_identical(word2phrase, tmp_path):
    if not SMALL8.exists():
        pytest.skip("SGNS_SMALL8 not set")
    src = tmp_path / "small8"
    shutil.copyfile(SMALL8, src)
    first = reference(word2phrase, src, tmp_path / "ref1", "-threshold", "200")
    assert ours(src, tmp_path / "ours1", "-threshold", "200") == first
    second = reference(word2phrase, tmp_path / "ref1", tmp_path / "ref2", "-threshold", "100")
    assert ours(tmp_path / "ours1", tmp_path / "ours2", "-threshold", "100") == second
    assert second.count(b"_") > first.count(b"_") > 100


def test_debug_lines_match_word2phrase(word2phrase, tmp_path, capsys):
    src = tmp_path / "t.txt"
    src.write_bytes(messy_text(7))
    proc = subprocess.run(
        [word2phrase, "-train", "t.txt", "-output", "r.txt", "-debug", "1"],
        check=True,
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert cli.main(["phrase", "-train", str(src), "-output", str(tmp_path / "o.txt"), "-debug", "1"]) == 0
    out = capsys.readouterr().out
    for line in proc.stdout.decode().splitlines():
        if line.startswith(("Vocab size", "Words in train file")):
            assert line in out.splitlines()


def test_usage_errors(tmp_path, capsys):
    assert cli.main(["phrase", "-train", str(tmp_path / "x")]) == 2
    assert "-output <file> is required" in capsys.readouterr().err
    assert cli.main(["phrase", "-train", "a", "-output", "b", "-threshold", "high"]) == 2
    assert "sgns:" in capsys.readouterr().err
    assert (
        cli.main(["phrase", "-train", str(tmp_path / "missing"), "-output", str(tmp_path / "o")]) == 2
    )  # every CLI error exits 2 (issue 14)
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert cli.main(["phrase", "-h"]) == 0
    assert "-threshold" in capsys.readouterr().out


def test_raised_stop_flag_interrupts_every_scan(tmp_path):
    """Ctrl-C raises the stop flag that the C scans poll at each buffer
    refill: each scan (counting or rewriting) then ends with Interrupted, and
    run_parallel raises KeyboardInterrupt."""
    from array import array

    from sgns import _phrases

    src = tmp_path / "t.txt"
    src.write_bytes(messy_text(3))
    size = src.stat().st_size
    raised = array("i", [1])
    with pytest.raises(_phrases.Interrupted):
        _phrases.w2p_learn(_phrases.PhraseTable(0), str(src), 0, size, False, 0, raised)
    with pytest.raises(_phrases.Interrupted):
        _phrases.Counter(_phrases.PhraseTable(0), None, b"_", 0).count_file(str(src), 0, size, False, raised)
    counts = phrasecount.learn_word2phrase(src, 5, 1)

    def stopped_learn(stop):
        stop[0] = 1
        _phrases.w2p_learn(counts.table, str(src), 0, size, False, 0, stop)

    with pytest.raises(KeyboardInterrupt):
        phrasecount.run_parallel([stopped_learn])
    out = tmp_path / "out.txt"
    with pytest.raises(_phrases.Interrupted), open(out, "wb") as f:
        _phrases.w2p_transform(counts.table, str(src), f.fileno(), 5, 100.0, counts.words, raised)


def test_phrase_command_starts_without_numpy(tmp_path):
    """`sgns phrase` imports neither NumPy nor the trainer: the command line
    dispatches to its module alone, and the flags import nothing heavy."""
    src = tmp_path / "in.txt"
    src.write_text("new york is big\nnew york is old\n" * 50, encoding="utf-8")
    code = (
        "import sys\n"
        "from sgns.cli import main\n"
        f"status = main(['phrase', '-train', {str(src)!r}, '-output', {str(tmp_path / 'out.txt')!r},"
        " '-debug', '0', '-min-count', '1', '-threshold', '1'])\n"
        "heavy = sorted(m for m in ('numpy', 'sgns.model', 'sgns._train') if m in sys.modules)\n"
        "print(status, heavy)\n"
    )
    # The sgns these tests import, from tmp_path: started in the repository root, -c would import the
    # source tree first, whatever is installed.
    env = dict(os.environ, PYTHONPATH=str(Path(cli.__file__).resolve().parent.parent))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.splitlines()[-1] == "0 []"
    assert "new_york" in (tmp_path / "out.txt").read_text(encoding="utf-8")
