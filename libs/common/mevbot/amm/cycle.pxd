# Augmenting declarations for cycle.py, used only by the Cython build (scripts/build_native.py);
# the .py is unchanged and stays the reference.
# What: the float model's piece walk and unit-slope solve (the "locate" step of the sizing) with
# their float locals as C doubles and their counters as C integers, so the per-piece arithmetic is
# machine arithmetic instead of boxed Python floats.
# Why exact: only values that are Python floats in the .py are typed ``double`` (the segments'
# entries are floats, built by mobius.py with float arithmetic; ``max_input`` is passed as
# ``float(...)`` by _float_walk and as that float further down); a C double is the same IEEE-754
# binary64 number with the same + - * / rounding. Division keeps Python's ZeroDivisionError
# (``cdivision`` stays off). Integers typed ``Py_ssize_t`` are list indices and counters bounded by
# list lengths and _MAX_WALK. Nothing of the exact (integer) sizing is typed: amounts stay Python
# ints. tests/unit/foundation/test_native.py compares a sizing workload compiled and as Python.
import cython

@cython.locals(x_lo0=double, hi0=double, y00=double, a0=double, b0=double, c0=double,
               x_lo1=double, hi1=double, a1=double, b1=double, c1=double,
               x_cur=double, x_break=double, x_end=double, w=double, den=double, v1=double,
               u=double, y=double, slope=double, which=Py_ssize_t, k0=Py_ssize_t, k1=Py_ssize_t,
               max_input=double)
cpdef tuple _walk_two(curve0, curve1, double max_input)

@cython.locals(x_lo0=double, hi0=double, y00=double, a0=double, b0=double, c0=double,
               x_lo1=double, hi1=double, y01=double, a1=double, b1=double, c1=double,
               x_lo2=double, hi2=double, a2=double, b2=double, c2=double,
               x_cur=double, x_break=double, x_end=double, w=double, den=double, v=double,
               u=double, slope=double, which=Py_ssize_t, k0=Py_ssize_t, k1=Py_ssize_t,
               k2=Py_ssize_t)
cpdef tuple _walk_three(curve0, curve1, curve2, double max_input)

@cython.locals(y=double, deriv=double, dlog=double, x_lo=double, y0=double, a=double, b=double,
               c=double, u=double, den=double)
cpdef tuple _slope(list segs, double x)

@cython.locals(a=double, b=double, c=double, d=double, p=double, q=double, r=double, s_=double,
               m=double, det=double, guess=double, x=double, dlog=double, slope=double,
               step=double)
cpdef tuple _solve_unit_slope(list segs, double lo, double hi)

@cython.locals(y=double, slope=double, x_lo=double, y0=double, a=double, b=double, c=double,
               u=double, den=double)
cpdef tuple _locate(list curves, double x)
