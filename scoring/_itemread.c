/* The per-item part of reading stored-form items into columns (fields.py), in C.
 *
 * Reading a million item dicts in Python costs about 1.3 s however it is arranged (fields.py
 * runs it through itemgetter, map and zip): every item's ten look-ups, its tuple and the list
 * appends each go through the interpreter. Here one loop does them at C speed.
 *
 * This module only ever takes the common case, and gives the same columns as the Python code:
 * every item an exact dict holding every stored-form key, with fields of the stored types. On
 * anything else `read` returns None having written nothing that matters, and fields.py reads the
 * batch in Python, which raises or copes exactly as before. (The two dicts it may have added to,
 * the handles' first positions and the scorer's sites, get what the Python reading of the same
 * batch gives them too: both number by first appearance, in the same order.) tests/scoring/
 * test_itemread.py compares the two on generated batches, hostile ones included.
 *
 * Captured text is never interpreted here: strings are only compared, hashed and handed on.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static PyObject *K_SITE, *K_ID, *K_KIND, *K_PARENT, *K_AUTHOR, *K_AT, *K_TEXT, *K_MENTIONS,
    *K_REACTIONS, *K_SENTIMENT, *K_HANDLE, *S_COMMENT;

/* A writable, C-contiguous buffer of n items of `size` bytes (a numpy array from fields.py). */
static int
column(PyObject *obj, Py_buffer *view, Py_ssize_t n, Py_ssize_t size, const char *name)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0)
        return -1;
    if (view->len != n * size || view->itemsize != size) {
        PyErr_Format(PyExc_ValueError, "column %s: %zd items of %zd bytes expected", name, n, size);
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
digits(const Py_UCS1 *s, int from, int count, int *out)
{
    int v = 0;
    for (int i = from; i < from + count; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

/* Epoch seconds of the stored form `YYYY-MM-DDTHH:MM:SSZ` (a real date and time, year 1 on);
 * 0 when `at` is anything else, which the Python reading then decides. */
static int
canonical_epoch(PyObject *at, double *out)
{
    static const int days_in[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!PyUnicode_CheckExact(at) || PyUnicode_GET_LENGTH(at) != 20 || PyUnicode_KIND(at) != PyUnicode_1BYTE_KIND)
        return 0;
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(at);
    int y, mo, d, h, mi, se;
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
        return 0;
    if (!digits(s, 0, 4, &y) || !digits(s, 5, 2, &mo) || !digits(s, 8, 2, &d) || !digits(s, 11, 2, &h)
        || !digits(s, 14, 2, &mi) || !digits(s, 17, 2, &se))
        return 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > days_in[mo - 1] + (mo == 2 && leap))
        return 0;
    *out = (double)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
    return 1;
}

/* The sum of a reactions dict's counts when every count is an int (or bool) from 0 to 2**40,
 * as fields._totals sums them; -1 for anything else (fields.py sums those in Python). */
static int64_t
reaction_total(PyObject *reactions)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int64_t total = 0;
    while (PyDict_Next(reactions, &pos, &key, &value)) {
        if (!PyLong_CheckExact(value) && !PyBool_Check(value))
            return -1;
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || v < 0 || v > ((long long)1 << 40))
            return -1;
        total += v;
        if (total > ((int64_t)1 << 53))
            return -1;  /* past float64's exact integers: summed as Python sums it */
    }
    return total;
}

/* A value of `d` under `key`, borrowed; NULL when it is missing (no error set) or on an error. */
static inline PyObject *
field(PyObject *d, PyObject *key)
{
    return PyDict_GetItemWithError(d, key);
}

enum { L_SITES, L_IDS, L_PARENTS, L_ATS, L_TEXTS, L_MENTIONS, L_STORED, N_LISTS };
enum { C_SITE, C_COMMENT, C_HCODE, C_T, C_HAS_PARENT, C_M_COUNT, C_TOTALS, N_COLS };
static const Py_ssize_t col_size[N_COLS] = {4, 1, 8, 8, 1, 8, 8};
static const char *col_name[N_COLS] = {"site_ids", "comment", "hcode", "t", "has_parent", "m_count", "totals"};

PyDoc_STRVAR(read_doc,
"read(items, handle_first, first, sites, new_sites, site_ids, comment, hcode, t, has_parent,\n"
"     m_count, totals)\n"
"\n"
"Reads stored-form item dicts into the given numpy columns (int32 site ids, bool comment,\n"
"int64 handle codes numbered by first appearance from `first` in `handle_first`, float64\n"
"epoch seconds, bool has-a-parent, int64 mention counts, float64 reaction totals), and\n"
"returns (sites, ids, parents, ats, texts, mentions, stored, dates_read): lists of the items'\n"
"fields (`stored`: each item's `sentiment`, None where it has none; None when no item has\n"
"one) and whether every date was in the stored form (if not, `t` is not written). `sites`\n"
"maps a site to its id; a site it lacks is put in the empty dict `new_sites` and its items\n"
"get -(k + 1), k its order of first appearance among them. None when an item is not of the\n"
"stored form: the caller then reads the batch itself.");

static PyObject *
read_items(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 + N_COLS) {
        PyErr_Format(PyExc_TypeError, "read() takes %d arguments", 5 + N_COLS);
        return NULL;
    }
    PyObject *items = args[0], *handle_first = args[1], *site_map = args[3], *new_sites = args[4];
    if (!PyList_CheckExact(items) || !PyDict_CheckExact(handle_first) || !PyDict_CheckExact(site_map)
        || !PyDict_CheckExact(new_sites) || PyDict_GET_SIZE(new_sites)) {
        PyErr_SetString(PyExc_TypeError, "read(): items must be a list, handle_first and sites dicts, new_sites empty");
        return NULL;
    }
    long long first = PyLong_AsLongLong(args[2]);
    if (first == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(items);

    Py_buffer view[N_COLS];
    int got = 0;
    PyObject *lists[N_LISTS] = {NULL};
    PyObject *result = NULL;
    int fallback = 0, dates_read = 1, any_stored = 0;
    for (; got < N_COLS; got++)
        if (column(args[5 + got], &view[got], n, col_size[got], col_name[got]) < 0)
            goto done;
    for (int k = 0; k < N_LISTS; k++)
        if (!(lists[k] = PyList_New(n)))
            goto done;

    int32_t *site_ids = view[C_SITE].buf;
    uint8_t *comment = view[C_COMMENT].buf, *has_parent = view[C_HAS_PARENT].buf;
    int64_t *hcode = view[C_HCODE].buf, *m_count = view[C_M_COUNT].buf;
    double *t = view[C_T].buf, *totals = view[C_TOTALS].buf;

    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *it = PyList_GET_ITEM(items, i);
        if (!PyDict_CheckExact(it)) {
            fallback = 1;
            goto done;
        }
        PyObject *site = field(it, K_SITE), *id = field(it, K_ID), *kind = field(it, K_KIND),
                 *parent = field(it, K_PARENT), *author = field(it, K_AUTHOR), *at = field(it, K_AT),
                 *text = field(it, K_TEXT), *mentions = field(it, K_MENTIONS),
                 *reactions = field(it, K_REACTIONS);
        if (PyErr_Occurred())
            goto done;
        PyObject *sentiment = field(it, K_SENTIMENT);
        if (!sentiment && PyErr_Occurred())
            goto done;
        if (!site || !id || !kind || !parent || !author || !at || !text || !mentions || !reactions
            || !PyUnicode_CheckExact(site) || !PyUnicode_CheckExact(kind) || !PyDict_CheckExact(author)
            || !PyList_CheckExact(mentions) || !PyDict_CheckExact(reactions)
            || !(parent == Py_None || PyUnicode_CheckExact(parent))) {
            fallback = 1;
            goto done;
        }
        PyObject *handle = field(author, K_HANDLE);
        if (!handle || !PyUnicode_CheckExact(handle)) {
            if (!PyErr_Occurred())
                fallback = 1;
            goto done;
        }

        /* a site the scorer does not know gets -(k + 1), k its place among the batch's new
         * sites: the caller adds them once the whole batch is read, so a batch given up on adds
         * nothing */
        PyObject *code = field(site_map, site);
        if (!code) {
            if (PyErr_Occurred())
                goto done;
            code = field(new_sites, site);
            if (!code) {
                if (PyErr_Occurred())
                    goto done;
                PyObject *k = PyLong_FromSsize_t(-1 - PyDict_GET_SIZE(new_sites));
                if (!k || PyDict_SetItem(new_sites, site, k) < 0) {
                    Py_XDECREF(k);
                    goto done;
                }
                Py_DECREF(k);
                code = field(new_sites, site);
            }
        }
        long v = PyLong_AsLong(code);
        if (v == -1 && PyErr_Occurred())
            goto done;
        site_ids[i] = (int32_t)v;

        PyObject *h = field(handle_first, handle);
        if (h) {
            hcode[i] = PyLong_AsLongLong(h);
            if (hcode[i] == -1 && PyErr_Occurred())
                goto done;
        } else {
            if (PyErr_Occurred())
                goto done;
            PyObject *pos = PyLong_FromLongLong(first + i);
            if (!pos || PyDict_SetItem(handle_first, handle, pos) < 0) {
                Py_XDECREF(pos);
                goto done;
            }
            Py_DECREF(pos);
            hcode[i] = first + i;
        }

        int is_comment = PyUnicode_Compare(kind, S_COMMENT) == 0;
        if (!is_comment && PyErr_Occurred())
            goto done;
        comment[i] = (uint8_t)is_comment;
        has_parent[i] = parent != Py_None && PyUnicode_GET_LENGTH(parent) > 0;
        m_count[i] = PyList_GET_SIZE(mentions);

        if (PyDict_GET_SIZE(reactions)) {
            int64_t total = reaction_total(reactions);
            if (total < 0) {
                fallback = 1;
                goto done;
            }
            totals[i] = (double)total;
        } else {
            totals[i] = 0.0;
        }

        if (at == Py_None || (PyUnicode_CheckExact(at) && PyUnicode_GET_LENGTH(at) == 0))
            t[i] = NAN;
        else if (dates_read && !canonical_epoch(at, &t[i]))
            dates_read = 0;

        if (sentiment && sentiment != Py_None)
            any_stored = 1;
        PyObject *row[N_LISTS] = {site, id, parent, at, text, mentions, sentiment ? sentiment : Py_None};
        for (int k = 0; k < N_LISTS; k++)
            PyList_SET_ITEM(lists[k], i, Py_NewRef(row[k]));
    }

    if (!any_stored) {
        Py_SETREF(lists[L_STORED], Py_NewRef(Py_None));
    }
    result = Py_BuildValue("(OOOOOOOO)", lists[L_SITES], lists[L_IDS], lists[L_PARENTS], lists[L_ATS],
                           lists[L_TEXTS], lists[L_MENTIONS], lists[L_STORED], dates_read ? Py_True : Py_False);

done:
    for (int k = 0; k < got; k++)
        PyBuffer_Release(&view[k]);
    for (int k = 0; k < N_LISTS; k++)
        Py_XDECREF(lists[k]);  /* a list cut short holds NULLs, which its dealloc skips */
    if (fallback && !result && !PyErr_Occurred())
        Py_RETURN_NONE;
    return result;
}

static PyMethodDef methods[] = {
    {"read", (PyCFunction)(void (*)(void))read_items, METH_FASTCALL, read_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "scoring._itemread",
    "The per-item part of reading stored-form items into columns, in C (see fields.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__itemread(void)
{
    struct { PyObject **slot; const char *text; } names[] = {
        {&K_SITE, "site"}, {&K_ID, "id"}, {&K_KIND, "kind"}, {&K_PARENT, "parent"}, {&K_AUTHOR, "author"},
        {&K_AT, "at"}, {&K_TEXT, "text"}, {&K_MENTIONS, "mentions"}, {&K_REACTIONS, "reactions"},
        {&K_SENTIMENT, "sentiment"}, {&K_HANDLE, "handle"}, {&S_COMMENT, "comment"},
    };
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (!(*names[k].slot = PyUnicode_InternFromString(names[k].text)))
            return NULL;
    return PyModule_Create(&module);
}
