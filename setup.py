"""Build the C extensions. Metadata lives in pyproject.toml.

Portable flags only: the SIMD kernels are compiled with per-function target
attributes and picked at run time, so a wheel runs on any x86-64 (or other)
CPU. Set SGNS_DEBUG=1 to build with Cython bounds checks and -O0 -g.
"""
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

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


def ext(name, sources):
    return Extension(
        name,
        sources=sources,
        include_dirs=["csrc"],
        extra_compile_args=compile_args,
    )


extensions = [
    ext("sgns._tokenize", ["sgns/_tokenize.pyx", "csrc/reader.c", "csrc/wordhash.c"]),
    ext(
        "sgns._train",
        ["sgns/_train.pyx", "csrc/kernels.c", "csrc/noise.c", "csrc/reader.c", "csrc/wordhash.c"],
    ),
]

setup(ext_modules=cythonize(extensions, compiler_directives=directives))
