"""sgns distance / analogy / accuracy (sgns.tools): word2vec.c's distance,
word-analogy and compute-accuracy, compared with the originals when they
are installed."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from conftest import QUESTIONS, find_tool

from sgns import Word2Vec, formats
from sgns.cli import main
from sgns.tools import (
    ANALOGY_PROMPT,
    DISTANCE_PROMPT,
    accuracy_command,
    analogy_command,
    distance_command,
    is_binary_file,
    load_vectors,
)


def find_c_tool(name: str) -> str | None:
    """word2vec.c's tools (see conftest.find_tool)."""
    return find_tool(name)


def c_tool(name: str) -> str:
    path = find_c_tool(name)
    if path is None:
        pytest.skip(f"{name} (word2vec.c) not found (set SGNS_WORD2VEC_BIN)")
    return path


# ---- fixtures ------------------------------------------------------------------

RELATIONS = ["capital", "plural", "gender", "tense", "colour", "size"]


@pytest.fixture(scope="module")
def analogy_files(tmp_path_factory):
    """Vectors with planted analogies: y_i = x_i + offset_r + noise for six
    relations, plus distractors, and a questions file exercising headers,
    case, unknown words, an unanswerable section and questions before the
    first header. Written as binary and as text."""
    rng = np.random.default_rng(11)
    dim = 24
    words, vecs = ["</s>"], [rng.normal(size=dim)]
    sections = []
    for r, name in enumerate(RELATIONS):
        offset = rng.normal(size=dim) * 1.2
        pairs = []
        for i in range(6):
            x = rng.normal(size=dim)
            words += [f"{name}x{i}", f"{name}y{i}"]
            vecs += [x, x + offset + 1.2 * rng.normal(size=dim)]
            pairs.append((f"{name}x{i}", f"{name}y{i}"))
        sections.append((name, pairs))
    for i in range(60):
        words.append(f"other{i}")
        vecs.append(rng.normal(size=dim))
    vectors = np.asarray(vecs, dtype=np.float32)
    d = tmp_path_factory.mktemp("analogy")
    formats.write_vectors(d / "vec.bin", words, vectors, binary=True)
    formats.write_vectors(d / "vec.txt", words, vectors, binary=False)

    lines = ["capitalx0 capitaly0 capitalx1 capitaly1"]  # before any header
    for k, (name, pairs) in enumerate(sections):
        if k == 4:
            lines += [": empty-section", "nosuch words at all", "capitalx0 capitaly0 zzz yyy"]
        lines.append(f": {name}-section")
        for a, b in pairs:
            for c, dd in pairs:
                if a != c:
                    lines.append(f"{a.upper() if k == 1 else a} {b} {c} {dd}")
        lines.append(f"{pairs[0][0]} {pairs[0][1]} unknownword {pairs[1][1]}")
    (d / "questions.txt").write_text("\n".join(lines) + "\n")
    return d


@pytest.fixture(scope="module")
def trained(tmp_path_factory, planted):
    """A small real model (the planted corpus), binary and text."""
    model = Word2Vec(planted.sentences, vector_size=16, window=3, min_count=1, epochs=3, workers=1, seed=3)
    d = tmp_path_factory.mktemp("trained")
    model.wv.save_word2vec_format(d / "vec.bin", binary=True)
    model.wv.save_word2vec_format(d / "vec.txt", binary=False)
    return d, model


def run(command, argv, text: str, tty: bool = False) -> str:
    stdin = io.BytesIO(text.encode())
    if tty:
        stdin.isatty = lambda: True
    out = io.BytesIO()
    assert command(argv, stdin=stdin, stdout=out) == 0
    return out.getvalue().decode()


ROW = re.compile(r"^ *(\S+)\t\t(-?\d+\.\d{6})$")


def rows(output: str) -> list[tuple[str, float]]:
    return [(m.group(1), float(m.group(2))) for m in map(ROW.match, output.splitlines()) if m]


# ---- accuracy --------------------------------------------------------------------


@pytest.mark.parametrize("threshold", ["30000", "0", "40"])
def test_accuracy_output_is_compute_accuracy_byte_for_byte(analogy_files, threshold):
    exe = c_tool("word2vec-compute-accuracy")
    vec, questions = analogy_files / "vec.bin", analogy_files / "questions.txt"
    with open(questions, "rb") as f:
        expected = subprocess.run(
            [exe, str(vec), threshold], stdin=f, capture_output=True, check=True
        ).stdout.decode()
    got = run(accuracy_command, [str(vec), str(questions), threshold], "")
    assert got == expected
    if threshold == "0":  # compute-accuracy's default, given or not
        with open(questions, "rb") as f:
            default = subprocess.run(
                [exe, str(vec)], stdin=f, capture_output=True, check=True
            ).stdout.decode()
        assert run(accuracy_command, [str(vec), str(questions)], "") == default == expected
    # the text file gives the same answer (format detected)
    assert run(accuracy_command, [str(analogy_files / "vec.txt"), str(questions), threshold], "") == got


def test_accuracy_counts(analogy_files):
    """Without the C tool: the layout and the counts we know from the file."""
    out = run(accuracy_command, [str(analogy_files / "vec.bin"), str(analogy_files / "questions.txt")], "")
    lines = out.splitlines()
    names = [line[:-1] for line in lines if line.endswith(":")]
    assert names == [f"{n}-section" for n in RELATIONS[:4]] + ["empty-section"] + [
        f"{n}-section" for n in RELATIONS[4:]
    ]
    tops = [
        re.match(r"ACCURACY TOP1: (\S+) %  \((\d+) / (\d+)\)$", line)
        for line in lines
        if line.startswith("ACCURACY")
    ]
    seen = [int(m.group(3)) for m in tops]
    assert seen == [30, 30, 30, 30, 1, 30, 30]  # 6*5 questions; upper case still seen
    correct = sum(int(m.group(2)) for m in tops)
    assert 0.3 * 180 < correct < 180  # planted, but noisy
    assert "Syntactic accuracy: -nan % " in lines[2]  # no syntactic question yet
    # 1 question before the first header + 6 sections of 31 + 2 in the empty section;
    # the one before the header is asked, never printed (as compute-accuracy)
    assert lines[-1] == "Questions seen / total: 181 189   95.77 % "
    assert "\n:" not in out and not out.startswith(":")


def test_accuracy_on_a_trained_model_matches_compute_accuracy(tmp_path, small_corpus):
    exe = c_tool("word2vec-compute-accuracy")
    if not os.path.exists(QUESTIONS):
        pytest.skip("questions-words.txt not found (set SGNS_QUESTIONS)")
    model = Word2Vec(corpus_file=str(small_corpus), vector_size=24, min_count=2, epochs=2, workers=1, seed=1)
    vec = tmp_path / "v.bin"
    model.wv.save_word2vec_format(vec, binary=True)
    with open(QUESTIONS, "rb") as f:
        expected = subprocess.run(
            [exe, str(vec), "30000"], stdin=f, capture_output=True, check=True
        ).stdout.decode()
    assert run(accuracy_command, [str(vec), QUESTIONS, "30000"], "") == expected


def test_accuracy_questions_from_stdin_and_cli(analogy_files, capsysbinary):
    vec, questions = str(analogy_files / "vec.bin"), analogy_files / "questions.txt"
    from_file = run(accuracy_command, [vec, str(questions)], "")
    assert run(accuracy_command, [vec, "-"], questions.read_text()) == from_file
    assert main(["accuracy", vec, str(questions)]) == 0
    assert capsysbinary.readouterr().out.decode() == from_file
    assert main(["accuracy", vec]) == 2
    assert b"usage: sgns accuracy" in capsysbinary.readouterr().err
    assert main(["accuracy", vec, str(questions), "lots"]) == 2
    assert main(["accuracy", str(analogy_files / "missing.bin"), str(questions)]) == 2


# ---- formats ------------------------------------------------------------------------


def test_format_detection(analogy_files, trained):
    assert is_binary_file(analogy_files / "vec.bin") is True
    assert is_binary_file(analogy_files / "vec.txt") is False
    d, _ = trained
    assert is_binary_file(d / "vec.bin") and not is_binary_file(d / "vec.txt")
    a = load_vectors(d / "vec.bin")
    b = load_vectors(d / "vec.txt")
    assert a.index_to_key == b.index_to_key
    np.testing.assert_allclose(a.vectors, b.vectors, atol=1e-6)
    with pytest.raises(formats.FormatError):
        load_vectors(d / "vec.bin", binary=False)


# ---- distance -----------------------------------------------------------------------


def test_distance_finds_the_planted_group(trained, planted):
    d, model = trained
    word = planted.groups[2][0]
    out = run(distance_command, [str(d / "vec.bin")], f"{word}\n")
    assert DISTANCE_PROMPT not in out  # not a terminal: no prompt
    index = model.wv.get_index(word)
    assert out.startswith(f"\nWord: {word}  Position in vocabulary: {index}\n\n")
    assert "Word       Cosine distance\n" + "-" * 72 + "\n" in out
    got = rows(out)
    assert len(got) == 40 and word not in [w for w, _ in got]
    assert {w for w, _ in got[:7]} == set(planted.groups[2]) - {word}
    assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    # The cosines are the KeyedVectors ones.
    for w, s in got[:10]:
        assert s == pytest.approx(model.wv.similarity(word, w), abs=2e-6)
    line = out.splitlines()[5]
    assert len(line.split("\t\t")[0]) == 50  # "%50s"


def test_distance_sentence_oov_exit_and_prompt(trained, planted):
    d, model = trained
    g = planted.groups[0]
    text = f"{g[0]} {g[1]}\nnot-a-word {g[0]}\n\n{g[2]} not-a-word\nEXIT\n{g[3]}\n"
    out = run(distance_command, [str(d / "vec.txt")], text)
    blocks = out.split("\nWord: ")
    assert [b.split("  ")[0] for b in blocks[1:]] == [g[0], g[1], "not-a-word", g[2], "not-a-word"]
    assert out.count("Out of dictionary word!\n") == 2
    assert "Position in vocabulary: -1\nOut of dictionary word!\n" in out
    assert f"Word: {g[3]} " not in out  # after EXIT
    got = rows(out)
    assert len(got) == 40 and not {g[0], g[1]} & {w for w, _ in got}
    # the query is the normalised sum of the unit vectors
    q = model.wv.get_vector(g[0], norm=True) + model.wv.get_vector(g[1], norm=True)
    assert got[0][1] == pytest.approx(
        float(model.wv.cosine_similarities(q, model.wv[[got[0][0]]])[0]), abs=2e-6
    )
    # on a terminal: a prompt before each query, including the one answered by EXIT
    out = run(distance_command, [str(d / "vec.bin")], f"{g[0]}\nEXIT\n", tty=True)
    assert out.count(DISTANCE_PROMPT) == 2 and out.startswith(DISTANCE_PROMPT + "\nWord: ")
    # end of input without EXIT ends too
    assert run(distance_command, [str(d / "vec.bin")], f"{g[0]}").count("\t\t") == 40


def test_small_vocabulary_prints_what_there_is(tmp_path):
    path = tmp_path / "v.txt"
    formats.write_vectors(
        path, ["a", "b", "c", "z"], np.array([[1, 0], [1, 1], [-1, 0.1], [0, 0]], dtype=np.float32)
    )
    out = run(distance_command, [str(path)], "a\nz\n")
    assert rows(out) == [
        ("b", pytest.approx(0.707107, abs=1e-6)),
        ("c", pytest.approx(-0.995037, abs=1e-6)),
    ]  # the zero vector is no answer
    # z itself is a word, but its zero vector has no direction: nothing to list
    assert out.endswith(
        "Word: z  Position in vocabulary: 3\n\n" + " " * 46 + "Word       Cosine distance\n" + "-" * 72 + "\n"
    )


# ---- analogy -------------------------------------------------------------------------


def test_analogy(analogy_files):
    vec = str(analogy_files / "vec.bin")
    out = run(
        analogy_command,
        [vec],
        "capitalx0 capitaly0 capitalx1\ncapitalx0 capitaly0\ncapitalx0 nope capitalx1\nEXIT\n",
    )
    assert ANALOGY_PROMPT not in out
    assert "Word              Distance\n" in out
    got = rows(out)
    assert got[0][0] == "capitaly1"
    assert not {"capitalx0", "capitaly0", "capitalx1"} & {w for w, _ in got}
    assert all(s > 0 for _, s in got) and len(got) <= 40
    assert (
        "Only 2 words were entered.. three words are needed at the input to perform the calculation\n"
    ) in out
    assert "Word: nope  Position in vocabulary: -1\nOut of dictionary word!\n" in out
    # the query is unit(b - a + c) of unit vectors
    kv = load_vectors(analogy_files / "vec.bin")
    u = kv.unit
    i = {w: k for k, w in enumerate(kv.index_to_key)}
    q = u[i["capitaly0"]] - u[i["capitalx0"]] + u[i["capitalx1"]]
    assert got[0][1] == pytest.approx(float(u[i["capitaly1"]] @ q / np.linalg.norm(q)), abs=2e-6)
    # the first word of the file is a word like any other (word-analogy treats it as unknown)
    assert "Position in vocabulary: 0\n\n" in run(analogy_command, [vec], "</s> capitalx0 capitaly0\n")


# ---- against word2vec.c's distance and word-analogy ------------------------------------------


def _compare_listings(ours: str, theirs: str) -> None:
    """Same blocks and words; cosines equal to the printed precision give or
    take float32 summation order (1e-6), near-equal neighbours may swap."""
    padding = re.compile(r"^ {50}\t\t")  # word2vec.c's empty rows
    theirs = "\n".join(line for line in theirs.splitlines() if not padding.match(line))
    assert [line for line in ours.splitlines() if not ROW.match(line)] == [
        line for line in theirs.splitlines() if not ROW.match(line)
    ]
    a, b = rows(ours), rows(theirs)
    assert len(a) == len(b)
    for (wa, sa), (wb, sb) in zip(a, b):
        assert abs(sa - sb) <= 2.1e-6
        if wa != wb:
            assert (wb, pytest.approx(sa, abs=5e-6)) in b


def test_distance_and_analogy_agree_with_word2vec_c(trained, planted):
    d, _ = trained
    vec = str(d / "vec.bin")
    g = planted.groups
    for name, command, prompt, queries in (
        (
            "word2vec-distance",
            distance_command,
            DISTANCE_PROMPT,
            [g[0][0], f"{g[1][1]} {g[2][2]}", "unknown", g[3][3]],
        ),
        (
            "word2vec-word-analogy",
            analogy_command,
            ANALOGY_PROMPT,
            [f"{g[0][0]} {g[0][1]} {g[1][0]}", f"{g[4][4]} {g[5][5]}", f"{g[2][0]} {g[3][0]} {g[4][0]}"],
        ),
    ):
        exe = find_c_tool(name)
        if exe is None:
            continue
        text = "\n".join(queries) + "\nEXIT\n"
        theirs = (
            subprocess.run([exe, vec], input=text.encode(), capture_output=True, timeout=60, check=True)
            .stdout.decode()
            .replace(prompt, "")
        )
        _compare_listings(run(command, [vec], text), theirs)
    if find_c_tool("word2vec-distance") is None and find_c_tool("word2vec-word-analogy") is None:
        pytest.skip("word2vec.c's distance and word-analogy not found")


def test_cli_subprocess_pipe(trained, planted):
    d, _ = trained
    word = planted.groups[1][1]
    # The sgns under test (installed wheel in CI, in-place build in
    # development), run from outside the source tree.
    import sgns

    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(sgns.__file__)))
    env = dict(os.environ, PYTHONPATH=pkg_parent + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "sgns", "distance", str(d / "vec.bin")],
        input=f"{word}\nEXIT\n".encode(),
        capture_output=True,
        timeout=120,
        env=env,
        cwd=d,
    )
    assert proc.returncode == 0, proc.stderr
    assert DISTANCE_PROMPT.encode() not in proc.stdout
    assert proc.stdout.count(b"\t\t") == 40
    proc = subprocess.run(
        [sys.executable, "-m", "sgns", "analogy"], capture_output=True, timeout=120, env=env, cwd=d
    )
    assert proc.returncode == 2 and b"usage: sgns analogy" in proc.stderr
