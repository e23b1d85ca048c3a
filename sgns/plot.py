"""Pictures: words projected to 2-D by PCA, and the training loss per epoch.

matplotlib is optional (pip install matplotlib) and imported only here, when
a function runs. Figures are drawn with the Agg renderer through
matplotlib's object API: pyplot and the session's backend are not touched.

    sgns plot VEC word... [-output words.png] [-binary 0|1] [-analogy a:b,c:d]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sgns.container import MAGIC
from sgns.flags import PLOT_USAGE, parse_plot_args
from sgns.formats import is_binary_file
from sgns.keyedvectors import KeyedVectors
from sgns.outputs import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Pair = tuple[str, str]


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install matplotlib") from None
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project the rows of vectors (N x D) on their first two principal
    components. Returns (N x 2 coordinates, fraction of the variance each
    component explains). Signs are fixed (the largest loading of each
    component is positive) so the same input always gives the same picture;
    a missing component (N < 3 or rank < 2) is all zeros."""
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError("need a non-empty (N, D) matrix")
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    k = min(2, vt.shape[0])
    comps = np.zeros((2, x.shape[1]))
    comps[:k] = vt[:k]
    for c in comps:
        i = int(np.argmax(np.abs(c)))
        if c[i] < 0:
            c *= -1
    total = float((s**2).sum())
    ratio = np.zeros(2)
    if total > 0:
        ratio[:k] = s[:k] ** 2 / total
    return x @ comps.T, ratio


def plot_words(
    kv: KeyedVectors,
    words: Sequence[str],
    path: str | os.PathLike | None = None,
    *,
    analogies: Sequence[Pair] = (),
    norm: bool = True,
    title: str | None = None,
    size: tuple[float, float] = (8.0, 6.5),
) -> Figure:
    """Scatter plot of words in the plane of their first two principal
    components, each point labelled, with an arrow a -> b for every analogy
    pair (e.g. [("man", "woman"), ("king", "queen")]; their words are added
    to `words`). norm: use unit-length vectors (cosine geometry; default).
    Saves a PNG to path if given (atomically); returns the Figure. size in
    inches (at 100 dpi). KeyError names every missing word."""
    order: list[str] = []
    for w in list(words) + [w for pair in analogies for w in pair]:
        if w not in order:
            order.append(w)
    missing = [w for w in order if w not in kv]
    if missing:
        raise KeyError(f"not in the vocabulary: {', '.join(missing)}")
    if len(order) < 2:
        raise ValueError("plot at least two words")
    vecs = np.vstack([kv.get_vector(w, norm=norm) for w in order])
    xy, ratio = pca_2d(vecs)
    at = {w: xy[i] for i, w in enumerate(order)}

    fig = _figure(*size)
    ax = fig.add_subplot()
    in_pairs = {w for pair in analogies for w in pair}
    colours = ["tab:red" if w in in_pairs else "tab:blue" for w in order]
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=28, zorder=3)
    for w in order:
        ax.annotate(w, at[w], xytext=(5, 4), textcoords="offset points", fontsize=10, zorder=4)
    for a, b in analogies:
        ax.annotate(
            "",
            xy=at[b],
            xytext=at[a],
            zorder=2,
            arrowprops=dict(arrowstyle="->", color="tab:red", lw=1.4, shrinkA=4, shrinkB=4),
        )
    ax.set_xlabel(f"PC1 ({100 * ratio[0]:.1f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * ratio[1]:.1f}% of variance)")
    ax.set_title(title or f"{len(order)} words, PCA of {'unit ' if norm else ''}vectors")
    ax.set_aspect("equal", adjustable="datalim")  # directions and lengths as they are
    ax.grid(True, alpha=0.3)
    ax.margins(0.12)
    fig.tight_layout()
    if path is not None:
        with atomic_write(path) as f:
            fig.savefig(f, format="png")
    return fig


def plot_loss(
    model_or_losses,
    path: str | os.PathLike | None = None,
    *,
    title: str | None = None,
    size: tuple[float, float] = (7.0, 4.5),
) -> Figure:
    """Line plot of the training loss per epoch: of a model trained with
    compute_loss=True (its loss_history) or of a list of per-epoch losses.
    Saves a PNG to path if given (atomically); returns the Figure."""
    losses = getattr(model_or_losses, "loss_history", model_or_losses)
    losses = [float(x) for x in losses]
    if not losses:
        raise ValueError("no losses to plot: train with compute_loss=True")
    if all(x == 0.0 for x in losses) and hasattr(model_or_losses, "loss_history"):
        raise ValueError("every epoch's loss is 0: was the model trained with compute_loss=True?")
    fig = _figure(*size)
    ax = fig.add_subplot()
    epochs = np.arange(1, len(losses) + 1)
    ax.plot(epochs, losses, marker="o", color="tab:blue")
    ax.set_xlabel("epoch")
    ax.set_ylabel("SGNS loss (sum over the epoch)")
    ax.set_xticks(epochs if len(epochs) <= 20 else np.linspace(1, len(epochs), 10, dtype=int))
    ax.set_title(title or "training loss per epoch")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    if path is not None:
        with atomic_write(path) as f:
            fig.savefig(f, format="png")
    return fig


# ---- command line -----------------------------------------------------------------------------


def plot_command(argv: list[str]) -> int:
    """`sgns plot`: see sgns.flags.PLOT_USAGE."""
    if not argv or argv[0] in ("-h", "--help", "-help"):
        print(PLOT_USAGE, end="")
        return 0 if argv else 2
    args = parse_plot_args(argv)
    kv = _load_vectors(args.vectors, args.binary)
    try:
        plot_words(kv, args.words, args.output, analogies=args.pairs, norm=not args.raw)
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    shown = len(set(args.words) | {w for p in args.pairs for w in p})
    print(f"wrote {args.output} ({shown} words)", file=sys.stderr)
    return 0


def _load_vectors(path: str, binary: bool | None) -> KeyedVectors:
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
    if head == MAGIC:
        return KeyedVectors.load(path, mmap="r")
    if binary is None:
        binary = is_binary_file(path)
    return KeyedVectors.load_word2vec_format(path, binary=binary)


__all__ = ["pca_2d", "plot_command", "plot_loss", "plot_words"]
