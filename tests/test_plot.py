"""sgns.plot and `sgns plot`: PCA, valid PNGs, the command line, and the
message when matplotlib is missing."""

from __future__ import annotations

import struct
import sys
import zlib

import numpy as np
import pytest

from sgns import KeyedVectors, Word2Vec, cli
from sgns.plot import pca_2d, plot_loss, plot_words

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(path):
    """A well-formed PNG (every chunk's CRC right, IHDR first, IEND last)
    with a drawing in it, not a blank canvas. Returns (width, height)."""
    data = open(path, "rb").read()
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height = struct.unpack(">II", chunks[0][1][:8])
    image = pytest.importorskip("matplotlib.image").imread(path)
    assert image.shape[:2] == (height, width)
    rgb = image[..., :3]
    assert rgb.max() > 0.9 and rgb.min() < 0.2  # white canvas, black text
    assert (np.abs(rgb[..., 0] - rgb[..., 2]) > 0.3).sum() > 50  # coloured points or lines
    return width, height


@pytest.fixture(scope="module")
def kv():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 20))
    gender = rng.standard_normal(20)
    words = {
        "man": base[0],
        "woman": base[0] + gender,
        "king": base[1],
        "queen": base[1] + gender,
        "apple": base[2],
        "pear": base[2] + 0.1 * rng.standard_normal(20),
        "stone": base[3],
    }
    return KeyedVectors.from_arrays(list(words), np.array(list(words.values()), dtype=np.float32))


def test_pca_2d():
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(6)
    t = np.array([-2.0, -1.0, 0.5, 3.0])
    points = 5.0 + np.outer(t, direction)  # on a line in 6-D
    xy, ratio = pca_2d(points)
    np.testing.assert_allclose(ratio, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(xy[:, 0]), np.abs((t - t.mean()) * np.linalg.norm(direction)))
    np.testing.assert_allclose(xy[:, 1], 0.0, atol=1e-9)
    # plane: distances are kept exactly
    plane = rng.standard_normal((10, 2)) @ rng.standard_normal((2, 8))
    xy, ratio = pca_2d(plane)
    assert ratio.sum() == pytest.approx(1.0)
    d = lambda a: np.linalg.norm(a[:, None] - a[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(d(xy), d(plane), atol=1e-9)
    # signs are fixed by the components, not by the data: -x maps to -xy
    np.testing.assert_allclose(pca_2d(-plane)[0], -xy, atol=1e-9)
    xy1, _ = pca_2d(np.ones((1, 3)))
    np.testing.assert_array_equal(xy1, [[0.0, 0.0]])


def test_pca_2d_sign_convention():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 5))
    xy, _ = pca_2d(x)
    # the same points in another order project to the same places
    perm = rng.permutation(7)
    np.testing.assert_allclose(pca_2d(x[perm])[0], xy[perm], atol=1e-9)


def test_plot_words_writes_png(tmp_path, kv):
    pytest.importorskip("matplotlib")
    out = tmp_path / "words.png"
    fig = plot_words(kv, ["apple", "pear", "stone"], out, analogies=[("man", "woman"), ("king", "queen")])
    width, height = check_png(out)
    assert (width, height) == (800, 650)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    for word in ("apple", "pear", "stone", "man", "woman", "king", "queen"):
        assert word in labels
    arrows = [t for t in ax.texts if t.arrow_patch is not None]
    assert len(arrows) == 2
    assert "PC1" in ax.get_xlabel() and "%" in ax.get_xlabel()


def test_plot_words_errors(tmp_path, kv):
    pytest.importorskip("matplotlib")
    with pytest.raises(KeyError, match="nope, nada"):
        plot_words(kv, ["man", "nope", "nada"], tmp_path / "x.png")
    with pytest.raises(ValueError, match="two words"):
        plot_words(kv, ["man", "man"], tmp_path / "x.png")
    assert not list(tmp_path.iterdir())


def test_plot_loss(tmp_path, planted):
    pytest.importorskip("matplotlib")
    model = Word2Vec(
        planted.sentences[:500], vector_size=8, min_count=1, workers=1, epochs=3, compute_loss=True
    )
    fig = plot_loss(model, tmp_path / "loss.png")
    check_png(tmp_path / "loss.png")
    line = fig.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), model.loss_history)
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    plot_loss([5.0, 3.0, 2.5, 2.4], tmp_path / "list.png")
    check_png(tmp_path / "list.png")
    with pytest.raises(ValueError, match="compute_loss"):
        plot_loss([], tmp_path / "none.png")
    no_loss = Word2Vec(planted.sentences[:200], vector_size=8, min_count=1, workers=1, epochs=1)
    with pytest.raises(ValueError, match="compute_loss"):
        plot_loss(no_loss, tmp_path / "none.png")


def test_missing_matplotlib_message(tmp_path, kv, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_words(kv, ["man", "woman"], tmp_path / "x.png")
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_loss([1.0, 0.5], tmp_path / "x.png")


# ---- command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "binary", "sgns"])
def test_cli_plot(tmp_path, kv, kind, capsys):
    pytest.importorskip("matplotlib")
    vec = tmp_path / f"vec.{kind}"
    if kind == "sgns":
        kv.save(vec)
    else:
        kv.save_word2vec_format(vec, binary=kind == "binary")
    out = tmp_path / "out.png"
    assert (
        cli.main(["plot", str(vec), "apple", "pear", "-output", str(out), "-analogy", "man:woman,king:queen"])
        == 0
    )
    check_png(out)
    assert "wrote" in capsys.readouterr().err
    if kind == "binary":  # explicit -binary
        out2 = tmp_path / "out2.png"
        assert (
            cli.main(
                [
                    "plot",
                    str(vec),
                    "man",
                    "king",
                    "stone",
                    "-binary",
                    str(int(kind == "binary")),
                    "-output",
                    str(out2),
                ]
            )
            == 0
        )
        check_png(out2)


def test_cli_plot_errors(tmp_path, kv, capsys):
    pytest.importorskip("matplotlib")
    vec = tmp_path / "vec.txt"
    kv.save_word2vec_format(vec)
    out = str(tmp_path / "o.png")
    assert cli.main(["plot", str(vec), "man", "nope", "-output", out]) == 2
    assert "nope" in capsys.readouterr().err
    assert cli.main(["plot", str(vec), "man", "woman", "-colour", "red"]) == 2
    assert "unknown option" in capsys.readouterr().err
    assert cli.main(["plot", str(vec), "man", "-analogy", "man-woman"]) == 2
    assert cli.main(["plot", str(vec), "man"]) == 2
    assert cli.main(["plot", str(vec), "man", "woman", "-binary", "2"]) == 2
    assert cli.main(["plot", str(tmp_path / "missing.bin"), "a", "b"]) == 2
    assert cli.main(["plot"]) == 2
    assert "Usage: sgns plot" in capsys.readouterr().out
    assert not (tmp_path / "o.png").exists()
