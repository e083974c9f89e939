/* What the C modules of the scorer share (_itemread.c, _idtable.c, _reach.c): asking for memory ahead of
 * reading it, telling whether two strs hold the same text without the Python API, and checking
 * the type of a numpy array's items. */
#ifndef CLOUTLENS_CSHARED_H
#define CLOUTLENS_CSHARED_H

#include <Python.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* An exact str whose text can be read directly (one made by the legacy API is not "ready" before
 * Python 3.12, and readying it allocates). */
#if PY_VERSION_HEX < 0x030C0000
#define PLAIN_STR(o) (PyUnicode_CheckExact(o) && PyUnicode_IS_READY(o))
#else
#define PLAIN_STR(o) PyUnicode_CheckExact(o)
#endif

/* Whether two ready strs hold the same text (a str's kind is the narrowest its text fits, so
 * equal texts have equal kinds). No Python API: a thread without the GIL may ask it. */
static inline int
same_text(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    int kind = PyUnicode_KIND(a);
    return n == PyUnicode_GET_LENGTH(b) && kind == PyUnicode_KIND(b)
           && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * kind) == 0;
}

/* Whether a buffer's items are of `type`, in native order: 'i' a signed integer, 'u' an unsigned
 * one, '?' a bool, 'd' a float (their size is checked apart). A float64 array handed where int64 is read would
 * have the same size and be read as garbage. */
static inline int
native_type(const char *format, char type)
{
    if (!format)
        return 0;
    if (*format == '@' || *format == '=')
        format++;
    if (!format[0] || format[1])
        return 0;
    switch (type) {
    case 'i':
        return strchr("bhilq", format[0]) != NULL;
    case 'u':
        return strchr("BHILQ", format[0]) != NULL;
    default:
        return format[0] == type;
    }
}

/* A numpy array's buffer as a module takes it, and whether it was taken (to let go of it). */
typedef struct {
    Py_buffer view;
    int open;
} Buf;

static inline void
release_bufs(Buf *bufs, int count)
{
    for (int k = 0; k < count; k++)
        if (bufs[k].open)
            PyBuffer_Release(&bufs[k].view);
}

#endif
