"""Build the C extensions. Metadata lives in pyproject.toml.

Portable flags only: the SIMD kernels are compiled with per-function target
attributes (GCC/Clang) or plain intrinsics (MSVC) and picked at run time, so a
wheel runs on any CPU of its architecture (no host-specific -march flag). Set
SGNS_DEBUG=1 to build with Cython bounds checks and -O0 -g.

Layout: C files used by more than one extension go into one static library
(TEXT_LIBRARY), compiled once and linked into each extension; every extension
lists its .pyx and the C files only it uses. To add an extension, add a row to
EXTENSIONS.
"""

import os
import sys
from glob import glob

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

DEBUG = os.environ.get("SGNS_DEBUG", "") not in ("", "0")

if sys.platform == "win32":
    compile_args = ["/O2"] if not DEBUG else ["/Od", "/Zi"]
else:
    compile_args = ["-O3", "-fno-math-errno"] if not DEBUG else ["-O0", "-g"]

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "embedsignature": True,
}

# A change to any header rebuilds everything that could include it.
HEADERS = sorted(glob("csrc/*.h"))

# The corpus reader and the word table: shared by every extension that reads text.
TEXT_LIBRARY = (
    "sgns_text",
    {
        "sources": ["csrc/reader.c", "csrc/wordhash.c"],
        "include_dirs": ["csrc"],
        "cflags": compile_args,
        "obj_deps": {"": HEADERS},
    },
)

# name -> the sources only it uses
EXTENSIONS = {
    "sgns._tokenize": ["sgns/_tokenize.pyx", "csrc/countfilter.c", "csrc/huffman.c", "csrc/vecrows.c"],
    "sgns._train": ["sgns/_train.pyx", "csrc/kernels.c", "csrc/noise.c"],
    "sgns._phrases": ["sgns/_phrases.pyx", "csrc/phrases.c"],
}


class BuildExtWithLibraries(build_ext):
    """build_ext that builds the static libraries first: `setup.py build_ext
    --inplace` alone does not run build_clib."""

    def run(self):
        if self.distribution.has_c_libraries():
            self.run_command("build_clib")
        super().run()


extensions = [
    Extension(name, sources=sources, include_dirs=["csrc"], extra_compile_args=compile_args, depends=HEADERS)
    for name, sources in EXTENSIONS.items()
]

setup(
    libraries=[TEXT_LIBRARY],
    ext_modules=cythonize(extensions, compiler_directives=directives),
    cmdclass={"build_ext": BuildExtWithLibraries},
)
