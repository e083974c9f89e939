/* Finding a batch's items by (site, id), in C: derive.Ids's table when the compiler was there.
 *
 * A first load finds the parent of every comment among a million items. The numpy way
 * (derive.py) copies every id into a padded array, hashes and sorts it; a Python dict of (site,
 * id) tuples chases a pointer per key. Here the table is an open-addressed array of slots, each
 * a position in the batch and 31 bits of its key's hash; keys go in and are looked for in passes
 * that ask for each slot and each string a few keys ahead (prefetch), so the misses overlap.
 *
 * Only exact str ids and keys are taken (anything else: None, and derive.py does it in numpy or
 * a dict). A hit is exact: same site, then the same string, compared by its characters. String
 * hashes are Python's (varying between runs with hash randomisation), which moves only where a
 * key sits in the table, never what is found.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_cshared.h"
#include <stdint.h>
#include <string.h>


#define AHEAD 16  /* keys between asking for memory and reading it */
#define EMPTY (-1)

static uint64_t
mix(Py_hash_t h, int32_t site)
{
    uint64_t x = (uint64_t)h ^ ((uint64_t)(uint32_t)site * 0x9E3779B97F4A7C15ULL);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    return x;
}

#define TAG(x) ((int64_t)((x) >> 33) << 32)  /* 31 bits of the hash, above the position */
#define POS(slot) ((slot) & 0xFFFFFFFF)

static int
buffer(PyObject *obj, Buf *b, Py_ssize_t n, Py_ssize_t size, int writable, const char *name)
{
    b->open = 0;
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    b->open = 1;
    if (b->view.itemsize != size || (n >= 0 && b->view.len != n * size) || !native_type(b->view.format, 'i')) {
        PyErr_Format(PyExc_ValueError, "%s: %zd signed integers of %zd bytes expected", name, n, size);
        return -1;
    }
    return 0;
}

/* The slots of a table for n ids: a power of two, at least twice n (so that half stay empty and
 * every probe ends), n below 2**31 (a position fits its slot's low half); -1 with an error else. */
static Py_ssize_t
slots(Buf *table, Py_ssize_t n)
{
    Py_ssize_t size = table->view.len / 8;
    if (size < 2 * n || size < 1 || (size & (size - 1)) || n >= ((Py_ssize_t)1 << 31)) {
        PyErr_SetString(PyExc_ValueError, "table: a power of two of at least twice the ids' slots");
        return -1;
    }
    return size;
}

/* Each string's mixed hash, in memory the caller frees (PyMem_Free). NULL with an error set, or
 * NULL with *usable 0 when a string is not an exact str (then nothing is to be trusted). */
static uint64_t *
hashes(PyObject *strs, const int32_t *sites, int *usable)
{
    Py_ssize_t n = PyList_GET_SIZE(strs);
    uint64_t *out = PyMem_Malloc((n ? n : 1) * sizeof *out);
    *usable = 1;
    if (!out) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            PREFETCH(PyList_GET_ITEM(strs, i + AHEAD));
        PyObject *s = PyList_GET_ITEM(strs, i);
        Py_hash_t h;
        if (!PyUnicode_CheckExact(s) || (h = PyObject_Hash(s)) == -1) {  /* an exact str: no Python code runs */
            *usable = PyUnicode_CheckExact(s);
            PyMem_Free(out);
            return NULL;
        }
        out[i] = mix(h, sites[i]);
    }
    return out;
}

PyDoc_STRVAR(build_doc,
"build(ids, site_ids, table) -> bool or None\n"
"\n"
"Puts every item's (site_ids[i], ids[i]) in `table` (int64, a power of two of at least twice\n"
"len(ids) slots, all -1), at position i (the last position for a key given twice). True when\n"
"some key was given twice; None when an id is not a str (the table is not usable then).");

static PyObject *
build(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "build(ids: list, site_ids, table)");
        return NULL;
    }
    PyObject *ids = args[0];
    Py_ssize_t n = PyList_GET_SIZE(ids);
    Buf b[2] = {{.open = 0}, {.open = 0}};
    PyObject *result = NULL;
    uint64_t *h = NULL;
    if (buffer(args[1], &b[0], n, 4, 0, "site_ids") < 0 || buffer(args[2], &b[1], -1, 8, 1, "table") < 0)
        goto done;
    const int32_t *sites = b[0].view.buf;
    int64_t *table = b[1].view.buf;
    Py_ssize_t size = slots(&b[1], n);
    if (size < 0)
        goto done;
    int usable;
    if (!(h = hashes(ids, sites, &usable))) {
        if (!usable)
            result = Py_NewRef(Py_None);
        goto done;
    }
    uint64_t mask = (uint64_t)size - 1;
    int repeated = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + AHEAD < n)
            PREFETCH(&table[h[i + AHEAD] & mask]);
        uint64_t start = h[i] & mask, j = start;
        int64_t tag = TAG(h[i]);
        for (;;) {
            int64_t slot = table[j];
            if (slot == EMPTY) {
                table[j] = tag | i;
                break;
            }
            Py_ssize_t p = (Py_ssize_t)POS(slot);
            /* only this loop fills slots, with earlier positions, and leaves half of them empty:
             * anything else is a table that was not all -1, whose slots would be read as
             * positions past the ids (or probed round for ever) */
            if (p >= i) {
                PyErr_SetString(PyExc_ValueError, "table: not all -1");
                goto done;
            }
            if ((slot & ~(int64_t)0xFFFFFFFF) == tag && sites[p] == sites[i]
                && same_text(PyList_GET_ITEM(ids, p), PyList_GET_ITEM(ids, i))) {
                table[j] = tag | i;  /* as a dict keeps the last */
                repeated = 1;
                break;
            }
            if ((j = (j + 1) & mask) == start) {
                PyErr_SetString(PyExc_ValueError, "table: not all -1");
                goto done;
            }
        }
    }
    result = Py_NewRef(repeated ? Py_True : Py_False);
done:
    PyMem_Free(h);
    release_bufs(b, 2);
    return result;
}

PyDoc_STRVAR(find_doc,
"find(ids, site_ids, table, keys, key_sites, out) -> bool\n"
"\n"
"Sets out[j] (int64) to the position of (key_sites[j], keys[j]) in the table build() filled\n"
"from ids and site_ids, -1 where it is not there. False when a key is not a str (out is not\n"
"usable then).");

static PyObject *
find(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "find(ids: list, site_ids, table, keys: list, key_sites, out)");
        return NULL;
    }
    PyObject *ids = args[0], *keys = args[3];
    Py_ssize_t n = PyList_GET_SIZE(ids), m = PyList_GET_SIZE(keys);
    Buf b[4] = {{.open = 0}, {.open = 0}, {.open = 0}, {.open = 0}};
    PyObject *result = NULL;
    uint64_t *h = NULL;
    if (buffer(args[1], &b[0], n, 4, 0, "site_ids") < 0 || buffer(args[2], &b[1], -1, 8, 0, "table") < 0
        || buffer(args[4], &b[2], m, 4, 0, "key_sites") < 0 || buffer(args[5], &b[3], m, 8, 1, "out") < 0)
        goto done;
    const int32_t *sites = b[0].view.buf, *key_sites = b[2].view.buf;
    const int64_t *table = b[1].view.buf;
    int64_t *out = b[3].view.buf;
    Py_ssize_t size = slots(&b[1], n);
    if (size < 0)
        goto done;
    int usable;
    if (!(h = hashes(keys, key_sites, &usable))) {
        if (!usable)
            result = Py_NewRef(Py_False);
        goto done;
    }
    uint64_t mask = (uint64_t)size - 1;
    /* first the slot each key's hash leads to, then the item there, each asked for ahead */
    for (Py_ssize_t j = 0; j < m; j++) {
        if (j + AHEAD < m)
            PREFETCH(&table[h[j + AHEAD] & mask]);
        out[j] = table[h[j] & mask];
    }
    for (Py_ssize_t j = 0; j < m; j++) {
        if (j + AHEAD < m && out[j + AHEAD] != EMPTY) {
            Py_ssize_t p = (Py_ssize_t)POS(out[j + AHEAD]);
            PREFETCH(((PyListObject *)ids)->ob_item + p);
            PREFETCH(&sites[p]);
        }
        /* (this one reads the list to find the string: only at a position in it) */
        if (j + AHEAD / 2 < m && out[j + AHEAD / 2] != EMPTY && (Py_ssize_t)POS(out[j + AHEAD / 2]) < n)
            PREFETCH(PyList_GET_ITEM(ids, (Py_ssize_t)POS(out[j + AHEAD / 2])));
        int64_t tag = TAG(h[j]), found = EMPTY;
        PyObject *key = PyList_GET_ITEM(keys, j);
        uint64_t start = h[j] & mask, s = start;
        for (;;) {
            int64_t slot = table[s];
            if (slot == EMPTY)
                break;
            /* a table build() filled from these ids holds their positions, and half its slots
             * empty; the ids still exact strs: anything else (another batch's table, ids changed
             * since) would be read past the list's end, as strs, or probed round for ever */
            if ((slot & ~(int64_t)0xFFFFFFFF) == tag) {
                Py_ssize_t p = (Py_ssize_t)POS(slot);
                if (p >= n)
                    goto foreign;
                PyObject *id = PyList_GET_ITEM(ids, p);
                if (id != key && !PyUnicode_CheckExact(id))  /* (the key itself is one) */
                    goto foreign;
                if (sites[p] == key_sites[j] && same_text(id, key)) {
                    found = p;
                    break;
                }
            }
            if ((s = (s + 1) & mask) == start)
                goto foreign;
        }
        out[j] = found;
    }
    result = Py_NewRef(Py_True);
    goto done;
foreign:
    PyErr_SetString(PyExc_ValueError, "table: not one build() filled for these ids");
done:
    PyMem_Free(h);
    release_bufs(b, 4);
    return result;
}

static PyMethodDef methods[] = {
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL, build_doc},
    {"find", (PyCFunction)(void (*)(void))find, METH_FASTCALL, find_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "scoring._idtable", "Finding a batch's items by (site, id), in C (see derive.Ids).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__idtable(void)
{
    return PyModule_Create(&module);
}
