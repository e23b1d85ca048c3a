"""sgns.Phrases / FrozenPhrases against gensim 4.4's on planted corpora:
same counts, same scores, same phrased text; files, pickles, bounds."""

from __future__ import annotations

import json
import math
import os
import pickle
import random
import struct
import subprocess
import sys
import zlib

import pytest

import sgns
from sgns import LineSentence, phrasecount, phrasefile
from sgns.formats import FormatError

try:
    import gensim.models.phrases as gensim_phrases
except ImportError:  # gensim has no wheels for every Python sgns supports
    gensim_phrases = None
needs_gensim = pytest.mark.skipif(gensim_phrases is None, reason="gensim is not installed")


def planted_sentences(seed: int = 0, n: int = 3000) -> list[list[str]]:
    """Random words with planted collocations, some around connector words."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(300)]
    planted = [
        ["holy", "ghost"],
        ["burnt", "offering"],
        ["bank", "of", "america"],
        ["eye", "of", "the", "storm"],
    ]
    out = []
    for _ in range(n):
        s = []
        for _ in range(rng.randint(1, 20)):
            r = rng.random()
            if r < 0.1:
                s += rng.choice(planted)
            elif r < 0.2:
                s.append(rng.choice(["the", "of", "and", "a"]))
            else:
                s.append(rng.choice(words[: rng.randint(1, 300)]))
        out.append(s)
    return out


SENTENCES = planted_sentences()
SETTINGS = [
    {"min_count": 5, "threshold": 10.0},
    {"min_count": 3, "threshold": 0.3, "scoring": "npmi"},
    {"min_count": 2, "threshold": 5.0, "connector_words": sgns.ENGLISH_CONNECTOR_WORDS},
    {"min_count": 2, "threshold": 0.2, "scoring": "npmi", "connector_words": ["of", "the"], "delimiter": " "},
]


@needs_gensim
@pytest.mark.parametrize("kw", SETTINGS)
def test_counts_scores_and_output_equal_gensims(kw):
    ours, theirs = sgns.Phrases(SENTENCES, **kw), gensim_phrases.Phrases(SENTENCES, **kw)
    assert list(ours.vocab.items()) == list(theirs.vocab.items())
    assert ours.corpus_word_count == theirs.corpus_word_count
    exported = ours.export_phrases()
    assert exported == theirs.export_phrases()  # scores equal to the last bit
    assert {f"holy{ours.delimiter}ghost", f"burnt{ours.delimiter}offering"} <= set(exported)
    assert list(ours[SENTENCES]) == list(theirs[SENTENCES])
    assert ours.find_phrases(SENTENCES) == theirs.find_phrases(SENTENCES)
    frozen, gfrozen = ours.freeze(), theirs.freeze()
    assert dict(frozen.phrasegrams.items()) == gfrozen.phrasegrams
    assert [frozen[s] for s in SENTENCES[:500]] == [gfrozen[s] for s in SENTENCES[:500]]


def test_connector_phrases_formed():
    model = sgns.Phrases(SENTENCES, min_count=2, threshold=5.0, connector_words=sgns.ENGLISH_CONNECTOR_WORDS)
    assert model[["the", "bank", "of", "america", "and", "the", "eye", "of", "the", "storm"]] == [
        "the",
        "bank_of_america",
        "and",
        "the",
        "eye_of_the_storm",
    ]


@needs_gensim
def test_custom_scorer_and_python_path_agree():
    def scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
        return bigram_count / (worda_count + wordb_count)

    kw = {"min_count": 2, "threshold": 0.2}
    ours = sgns.Phrases(SENTENCES, scoring=pickle_safe_scorer, **kw)
    theirs = gensim_phrases.Phrases(SENTENCES, scoring=pickle_safe_scorer, **kw)
    assert ours.export_phrases() == theirs.export_phrases()
    assert list(ours[SENTENCES[:300]]) == list(theirs[SENTENCES[:300]])
    with pytest.raises(pickle.PickleError):
        sgns.Phrases(SENTENCES, scoring=scorer)  # a local function cannot be pickled


def pickle_safe_scorer(worda_count, wordb_count, bigram_count, len_vocab, min_count, corpus_word_count):
    return bigram_count / (worda_count + wordb_count)


@needs_gensim
def test_add_vocab_and_pruning_follow_gensim():
    kw = {"min_count": 1, "threshold": 1.0, "max_vocab_size": 800}
    ours, theirs = sgns.Phrases(SENTENCES[:1000], **kw), gensim_phrases.Phrases(SENTENCES[:1000], **kw)
    assert len(ours.vocab) <= 800 + 60
    assert list(ours.vocab.items()) == list(theirs.vocab.items())
    ours.add_vocab(SENTENCES[1000:])
    theirs.add_vocab(SENTENCES[1000:])
    assert list(ours.vocab.items()) == list(theirs.vocab.items())
    assert ours.min_reduce == theirs.min_reduce


def write_corpus(path, sentences):
    path.write_text("".join(" ".join(s) + "\n" for s in sentences))
    return path


@pytest.mark.parametrize("workers", [1, 3])
def test_corpus_file_counts_as_the_sentences(tmp_path, monkeypatch, workers):
    monkeypatch.setattr(phrasecount, "MIN_RANGE_BYTES", 2000)
    path = write_corpus(tmp_path / "c.txt", SENTENCES)
    kw = {"min_count": 2, "threshold": 5.0, "connector_words": sgns.ENGLISH_CONNECTOR_WORDS}
    from_file = sgns.Phrases(corpus_file=path, workers=workers, **kw)
    from_lists = sgns.Phrases(LineSentence(path, max_sentence_length=10**9), **kw)
    assert list(from_file.vocab.items()) == list(from_lists.vocab.items())
    assert from_file.corpus_word_count == from_lists.corpus_word_count


def test_transform_file_matches_sentences(tmp_path):
    path = write_corpus(tmp_path / "c.txt", SENTENCES)
    model = sgns.Phrases(corpus_file=path, min_count=2, threshold=5.0, connector_words={"of", "the"})
    for m in (model, model.freeze()):
        out = tmp_path / "out.txt"
        m.transform_file(path, out)
        want = "".join(" ".join(m[s]) + "\n" for s in SENTENCES)
        assert out.read_text() == want
        assert "holy_ghost" in want


@pytest.mark.parametrize("delimiter", ["_", "::"])
def test_transform_file_with_words_holding_the_delimiter(tmp_path, delimiter):
    """A frozen model's rewriting skips candidates whose first word starts no
    phrase; a first word that itself holds the delimiter ("new_york" of
    "new_york_city") must still be tried, as phrases[sentence] does."""
    rng = random.Random(5)
    joined = delimiter.join(["new", "york"])
    pool = [[joined, "city"], ["new", "york"], ["holy", "ghost"], ["of"], [f"w{rng.randrange(50)}"]]
    sentences = [[w for _ in range(rng.randint(1, 12)) for w in rng.choice(pool)] for _ in range(2000)]
    path = write_corpus(tmp_path / "c.txt", sentences)
    settings = {"min_count": 2, "threshold": 0.01, "delimiter": delimiter, "connector_words": {"of"}}
    phrases = sgns.Phrases(sentences, **settings)
    frozen = phrases.freeze()
    assert delimiter.join([joined, "city"]) in frozen.phrasegrams
    for m in (phrases, frozen):
        out = tmp_path / "out.txt"
        m.transform_file(path, out)
        assert out.read_text() == "".join(" ".join(m[s]) + "\n" for s in sentences)


@pytest.mark.parametrize("delimiter", ["_", "::", "ab"])
def test_export_splits_keys_as_str_split(delimiter):
    """export_phrases (in C) splits each key at its first and last delimiter,
    left to right without overlaps, as gensim's key.split(delimiter) does:
    the same result as the Python path, on tokens that hold pieces of it."""
    rng = random.Random(7)
    words = ["a", ":", "b", "a:", ":b", "ab", "aab", "abb", "x", delimiter, delimiter * 2, "y" + delimiter]
    sentences = [[rng.choice(words) for _ in range(rng.randint(1, 8))] for _ in range(3000)]
    model = sgns.Phrases(sentences, min_count=2, threshold=0.0001, delimiter=delimiter)
    found = model.export_phrases()
    assert found and found == model._export_python()


def test_export_in_parts_on_threads(monkeypatch):
    """export_phrases over the records cut into parts scanned by 3 threads:
    the same phrases, scores and order as one scan (built-in and custom scorer)."""
    kw = {"min_count": 2, "threshold": 0.2, "connector_words": {"of", "the"}}
    models = [sgns.Phrases(SENTENCES, **kw), sgns.Phrases(SENTENCES, scoring=pickle_safe_scorer, **kw)]
    whole = [list(m.export_phrases().items()) for m in models]
    monkeypatch.setattr(phrasecount, "MIN_PART_KEYS", 1)
    cuts = models[0]._table_obj().parts(3)
    assert len(cuts) == 4 and cuts[0] < cuts[1] < cuts[2] < cuts[3]
    for m, want in zip(models, whole):
        m.workers = 3
        assert list(m.export_phrases().items()) == want and want


def test_transform_file_in_parts_on_threads(tmp_path, monkeypatch):
    """Rewriting in many line-aligned parts (several rounds of 3 threads, two
    held in memory each round) writes what one pass writes, byte for byte."""
    path = write_corpus(tmp_path / "c.txt", SENTENCES)
    with open(path, "ab") as f:
        f.write(b"\n\n  holy \t ghost   w1\nholy ghost")  # empty lines, odd spacing, no final newline
    model = sgns.Phrases(corpus_file=path, min_count=2, threshold=5.0, connector_words={"of", "the"}).freeze()
    whole = tmp_path / "whole.txt"
    model.transform_file(path, whole)
    monkeypatch.setattr(phrasecount, "MIN_RANGE_BYTES", 1)
    monkeypatch.setattr(phrasecount, "ROUND_BYTES", 997)
    rounds = phrasecount.rewrite_rounds(path, 3)
    assert len(rounds) > 10 and all(len(r) == 3 for r in rounds[:-1])
    ranges = [r for rnd in rounds for r in rnd]
    assert ranges[0][0] == 0 and ranges[-1][1] == os.path.getsize(path)
    data = open(path, "rb").read()
    assert all(a == b_prev and data[a - 1 : a] == b"\n" for (_, b_prev), (a, _) in zip(ranges, ranges[1:]))
    model.workers = 3
    parts = tmp_path / "parts.txt"
    model.transform_file(path, parts)
    assert parts.read_bytes() == whole.read_bytes()
    assert parts.read_bytes().endswith(b"holy_ghost w1\nholy_ghost\n")


def test_max_vocab_size_bounds_memory(tmp_path):
    """Peak memory of counting a corpus of many distinct pairs, with and
    without a small max_vocab_size (a fresh process each)."""
    if os.environ.get("SGNS_MEMCHECK"):
        pytest.skip("peak RSS says nothing under AddressSanitizer or valgrind (scripts/memcheck.sh)")
    rng = random.Random(3)
    path = tmp_path / "wide.txt"
    with open(path, "w") as f:
        f.writelines(" ".join(f"t{rng.randrange(10**6)}" for _ in range(50)) + "\n" for _ in range(40000))
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child of a
    # big pytest process would report at least the parent's peak.
    code = (
        "import resource, sys, sgns\n"
        "p = sgns.Phrases(corpus_file=sys.argv[1], max_vocab_size=int(sys.argv[2]), workers=2)\n"
        "try:\n"
        "    peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
        "except OSError:\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(len(p.vocab), peak)\n"
    )

    def run(bound):
        out = subprocess.run(
            [sys.executable, "-c", code, str(path), str(bound)],
            check=False,
            capture_output=True,
            text=True,
            cwd=tmp_path,  # not the source tree: it would import the uncompiled package
        )
        assert out.returncode == 0, out.stderr
        return [int(x) for x in out.stdout.split()]

    (n_small, rss_small), (n_big, rss_big) = run(20000), run(40_000_000)
    assert n_small <= 20000 < n_big
    assert rss_big - rss_small > 40_000  # KiB: ~3.9M keys unbounded versus 20k


def test_save_load_roundtrip_and_pickle(tmp_path):
    model = sgns.Phrases(SENTENCES, min_count=2, threshold=5.0, connector_words={"of"})
    for m in (model, model.freeze()):
        path = tmp_path / "m.phrases"
        m.save(path)
        loaded = type(m).load(path)
        assert type(loaded) is type(m)
        assert loaded.connector_words == {"of"}
        assert [loaded[s] for s in SENTENCES[:200]] == [m[s] for s in SENTENCES[:200]]
        if isinstance(loaded, sgns.Phrases):
            loaded.add_vocab(corpus_file=write_corpus(tmp_path / "more.txt", SENTENCES[:10]))
            assert loaded.corpus_word_count == m.corpus_word_count + sum(map(len, SENTENCES[:10]))
        again = pickle.loads(pickle.dumps(m))
        assert [again[s] for s in SENTENCES[:200]] == [m[s] for s in SENTENCES[:200]]
    path = tmp_path / "custom.phrases"
    sgns.Phrases(SENTENCES, scoring=pickle_safe_scorer).save(path)
    assert sgns.Phrases.load(path).scoring is pickle_safe_scorer


@pytest.mark.parametrize("where", ["magic", "header", "table", "truncated"])
def test_corrupt_files_raise_format_error(tmp_path, where):
    path = tmp_path / "m.phrases"
    sgns.Phrases(SENTENCES, min_count=2).save(path)
    raw = bytearray(path.read_bytes())
    if where == "truncated":
        raw = raw[:-5]
    else:
        raw[{"magic": 1, "header": 30, "table": len(raw) - 20}[where]] ^= 0x55
    path.write_bytes(bytes(raw))
    with pytest.raises(FormatError):
        sgns.Phrases.load(path)


@needs_gensim
def test_gensim_pickles_load(tmp_path):
    theirs = gensim_phrases.Phrases(SENTENCES, min_count=2, threshold=5.0)
    theirs.save(str(tmp_path / "g.pkl"))
    theirs.freeze().save(str(tmp_path / "gf.pkl"))
    ours = sgns.Phrases.load(tmp_path / "g.pkl")
    frozen = sgns.FrozenPhrases.load(tmp_path / "gf.pkl")
    assert isinstance(ours, sgns.Phrases) and isinstance(frozen, sgns.FrozenPhrases)
    assert ours.export_phrases() == theirs.export_phrases()
    assert [frozen[s] for s in SENTENCES[:300]] == [theirs[s] for s in SENTENCES[:300]]


def test_bad_input():
    with pytest.raises(ValueError, match="min_count"):
        sgns.Phrases(min_count=0)
    with pytest.raises(ValueError, match="threshold"):
        sgns.Phrases(threshold=-1)
    with pytest.raises(TypeError, match="tokens must be str"):
        sgns.Phrases([["a", 3]])
    with pytest.raises(TypeError, match="exactly one"):
        sgns.Phrases().add_vocab()
    with pytest.raises(TypeError, match="delimiter"):
        sgns.Phrases(delimiter=b"_")
    model = sgns.Phrases(SENTENCES, min_count=2)
    assert model[["holy", 7, "ghost"]] == ["holy", 7, "ghost"]  # gensim's result: 7 is never counted
    assert sgns.Phraser is sgns.FrozenPhrases


def test_surrogate_tokens_round_trip():
    bad = "caf\udce9"  # an undecodable byte kept as a surrogate escape
    model = sgns.Phrases([[bad, "x"]] * 10, min_count=1, threshold=0.1)
    assert model.vocab[bad] == 10
    assert model[[bad, "x"]] == [bad + "_x"]


RECORD_A = b"\x03" + b"\x00" * 7 + b"\x01\x00\x00\x00" + b"a\x00\x00\x00"  # value 3, length 1, "a", padding


@pytest.mark.parametrize(
    "table",
    [
        RECORD_A * 2,  # the same key twice
        RECORD_A[:8] + b"\x09" + RECORD_A[9:],  # a key running past the end
        RECORD_A[:-1] + b"x",  # padding that is not zero
        RECORD_A[:-4],  # not a multiple of 8 bytes
    ],
)
def test_checksummed_but_malformed_table_is_format_error(tmp_path, table):
    path = tmp_path / "m.phrases"
    sgns.Phrases(SENTENCES[:50], min_count=1).save(path)
    header, _ = phrasefile.read(path)
    phrasefile.write(path, header["kind"], header["params"], 2, table)
    with pytest.raises(FormatError, match="corrupt table"):
        sgns.Phrases.load(path)
    phrasefile.write(path, header["kind"], header["params"], 1, RECORD_A)
    assert dict(sgns.Phrases.load(path).vocab) == {"a": 3}


def test_saving_view_blocks_changes_to_the_table():
    """save() writes the table's memory through a view; while one is held the
    table refuses changes (they could move the memory under the view)."""
    model = sgns.Phrases(SENTENCES[:50], min_count=1)
    table = model._table_obj()
    with table.stored() as view:
        assert bytes(view) == table.arena() and len(view) > 0
        with pytest.raises(BufferError):
            table.add(b"new", 1)
        with pytest.raises(BufferError):
            model.add_vocab(SENTENCES[:5])
    assert model.corpus_word_count == sum(map(len, SENTENCES[:50]))  # the refused merge changed nothing
    table.add(b"new", 1)
    assert model.vocab["new"] == 1


def test_version_1_files_and_pickles_still_load(tmp_path):
    """Files (and pickles) written before the table was stored as it lies in
    memory: per key uint32 length, bytes, int64 value."""
    model = sgns.Phrases(SENTENCES, min_count=2, threshold=5.0, connector_words={"of"})
    for m in (model, model.freeze()):
        path = tmp_path / "v1.phrases"
        table = m._table_obj().dump()
        header = {
            "format": phrasefile.FORMAT,
            "version": 1,
            "kind": m._KIND,
            "entries": len(m._table_obj()),
            "table_bytes": len(table),
            "table_crc32": zlib.crc32(table),
            "params": m._params(),
        }
        text = json.dumps(header).encode()
        preamble = struct.pack("<8sIIQ", phrasefile.MAGIC, 1, zlib.crc32(text), len(text))
        path.write_bytes(preamble + text + table)
        loaded = type(m).load(path)
        assert list(loaded._table_obj().items()) == list(m._table_obj().items())
        state = m.__getstate__()
        del state["sgns_arena"]
        state["sgns_table"] = table
        old = type(m).__new__(type(m))
        old.__setstate__(state)
        assert [old[s] for s in SENTENCES[:200]] == [m[s] for s in SENTENCES[:200]]


def test_scores_follow_the_formulas():
    """Without gensim too: the C scores equal the formulas computed in Python."""
    model = sgns.Phrases(SENTENCES, min_count=2, threshold=1.0)
    a, b, ab = model.vocab["holy"], model.vocab["ghost"], model.vocab["holy_ghost"]
    assert model.export_phrases()["holy_ghost"] == (ab - 2) / float(a * b) * len(model.vocab)
    npmi = sgns.Phrases(SENTENCES, min_count=2, threshold=0.0, scoring="npmi")
    total = float(npmi.corpus_word_count)
    pa, pb, pab = a / total, b / total, ab / total
    assert npmi.export_phrases()["holy_ghost"] == math.log(pab / (pa * pb)) / -math.log(pab)
    assert npmi.freeze().phrasegrams["holy_ghost"] == npmi.export_phrases()["holy_ghost"]
