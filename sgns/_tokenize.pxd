from sgns._csrc cimport sg_wordhash

cdef class WordHash:
    cdef sg_wordhash h
    cdef bint ready
