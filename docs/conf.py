"""Sphinx configuration: the API reference comes from the docstrings
(autodoc + napoleon), the guides are Markdown (MyST). Built with warnings as
errors by .ci/run:  python -I -m sphinx -W --keep-going -b html docs docs/_build/html
(-I: import the installed, compiled sgns, not the source tree).
"""

from sgns.version import __version__

project = "sgns"
author = "sgns developers"
copyright = "sgns developers"
version = release = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# Annotations name numpy and typing objects that have no page here.
nitpicky = False
# sgns.KeyedVectors, sgns.keyedvectors.KeyedVectors and sgns.gensim.KeyedVectors share a name.
suppress_warnings = ["ref.python"]

html_theme = "alabaster"
html_static_path: list[str] = []
