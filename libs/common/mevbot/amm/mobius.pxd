# Augmenting declarations for mobius.py, used only by the Cython build (scripts/build_native.py);
# the .py is unchanged and stays the reference.
# What: SegmentCurve and V3Curve become extension types holding exactly the attributes of their
# __slots__ (public: read and written from Python as before; no __dict__, no other attribute), and
# their methods cpdef, so attribute reads are struct loads and the calls between the methods
# (value/slope -> find -> index_of -> segment) are direct C calls.
# Why exact: nothing is typed as a C number; every x, k and segment keeps its Python type and
# Python arithmetic. ``segments`` and ``his`` are typed ``list`` (as annotated in the .py: built
# as lists in __init__ and only appended to; None stays accepted).
# Measured: about -3 % instructions of the detector's drain workload (callgrind).
cdef class SegmentCurve:
    cdef public list segments
    cdef public list his
    cdef public object _gen
    cpdef segment(self, k)
    cpdef index_of(self, x)
    cpdef slope_at_zero(self)
    cpdef find(self, x)
    cpdef value(self, x)
    cpdef slope(self, x)

cdef class V3Curve(SegmentCurve):
    pass
