from sgns._csrc cimport sg_wordhash

# A sentence's tokens as a list or tuple, checked (shared by the counting
# and the encoding of Python sentences).
cdef object sentence_tokens(object sentence, object check)

cdef class WordHash:
    cdef sg_wordhash h
    cdef bint ready
