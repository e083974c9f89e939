/* The per-item part of reading stored-form items into columns (fields.py), in C.
 *
 * Reading a million item dicts in Python costs about 1.3 s however it is arranged (fields.py
 * runs it through itemgetter, map and zip): every item's ten look-ups, its tuple and the list
 * appends each go through the interpreter. Here one loop does them at C speed (0.4 s, most of
 * it waiting on memory: see read_items).
 *
 * This module only ever takes the common case, and gives the same columns as the Python code:
 * every item an exact dict holding every stored-form key, with fields of the stored types. On
 * anything else `read` returns None having written nothing that matters, and fields.py reads the
 * batch in Python, which raises or copes exactly as before. (The one dict it may have added to,
 * the handles' first positions, gets what the Python reading of the same batch gives it too:
 * both number by first appearance, in the same order. New sites are only reported, for the
 * caller to add once the batch is read.) tests/scoring/test_itemread.py compares the two on
 * generated batches, hostile ones included.
 *
 * Captured text is never interpreted here: strings are only compared, hashed and handed on.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_cshared.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#include <unistd.h>
#define TWO_CORES_POSSIBLE 1  /* (on Windows a batch is read on one core) */
#endif

/* The stored form's keys, in the order read (`sentiment` alone may be missing). */
enum { F_SITE, F_ID, F_KIND, F_PARENT, F_AUTHOR, F_AT, F_TEXT, F_MENTIONS, F_REACTIONS, F_SENTIMENT, N_FIELDS };
static const char *const FIELD_NAMES[N_FIELDS] = {"site", "id", "kind", "parent", "author", "at", "text",
                                                  "mentions", "reactions", "sentiment"};
static PyObject *KEYS[N_FIELDS], *K_HANDLE, *S_COMMENT;
enum { S_HANDLE = N_FIELDS, N_SLOTS };  /* read_items keeps an item's author's handle after its fields */

#define BLOCK 16  /* items read a step at a time (see read_range) */
#define AHEAD_PASSED 16  /* items between asking for a passed object and taking a reference to it */


/* Asks for the first `lines` cache lines of an object, ahead of reading it. */
static inline void
prefetch(const void *obj, int lines)
{
    for (int k = 0; k < lines; k++)
        PREFETCH((const char *)obj + 64 * k);
}

/* Asks for a dict's table (its header must have been asked for a step before). */
static inline void
prefetch_keys(PyObject *d)
{
    if (PyDict_CheckExact(d)) {
        prefetch(((PyDictObject *)d)->ma_keys, 4);
        if (((PyDictObject *)d)->ma_values)
            prefetch(((PyDictObject *)d)->ma_values, 1);
    }
}

/* A writable, C-contiguous buffer of n items of `size` bytes and `type` (a numpy array from
 * fields.py). */
static int
column(PyObject *obj, Py_buffer *view, Py_ssize_t n, Py_ssize_t size, char type, const char *name)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->len != n * size || view->itemsize != size || !native_type(view->format, type)) {
        PyErr_Format(PyExc_ValueError, "column %s: %zd items of %zd bytes of type '%c' expected (got '%s')",
                     name, n, size, type, view->format ? view->format : "B");
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
 * as fields._totals sums them, and its largest count in *most (fields._crowds); -1 for anything
 * else (fields.py reads those in Python). */
static int64_t
reaction_total(PyObject *reactions, int64_t *most)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int64_t total = 0;
    *most = 0;
    while (PyDict_Next(reactions, &pos, &key, &value)) {
        if (!PyLong_CheckExact(value) && !PyBool_Check(value))
            return -1;
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (overflow || v < 0 || v > ((long long)1 << 40))
            return -1;
        total += v;
        if (v > *most)
            *most = v;
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

/* Whether a plain str holds a '#'. */
static int
holds_hash(PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    const void *data = PyUnicode_DATA(s);
    switch (PyUnicode_KIND(s)) {
    case PyUnicode_1BYTE_KIND:
        return memchr(data, '#', (size_t)n) != NULL;
    case PyUnicode_2BYTE_KIND:
        for (Py_ssize_t j = 0; j < n; j++)
            if (((const Py_UCS2 *)data)[j] == '#')
                return 1;
        return 0;
    default:
        for (Py_ssize_t j = 0; j < n; j++)
            if (((const Py_UCS4 *)data)[j] == '#')
                return 1;
        return 0;
    }
}

/* The key objects met so far and the field each is (-1: not one read here). The stored form's
 * keys are a dozen strings, nearly always the same few objects (interned, or a JSON parser's
 * cached keys): each item's keys are told apart by address, with no hashing or probing. */
#define SEEN_MAX 64
typedef struct {
    PyObject *key[SEEN_MAX];
    int field[SEEN_MAX];
    int n;
} Seen;

#define ALL_FIELDS ((1 << N_FIELDS) - 1)

/* Which field a key is: its address if seen before, else its text (then remembered). The keys
 * are held by the items' dicts for the whole call, so an address stays one key's. */
static int
field_of(PyObject *key, int guess, Seen *seen)
{
    if (guess < seen->n && seen->key[guess] == key)  /* the stored form's items list keys alike */
        return seen->field[guess];
    for (int k = 0; k < seen->n; k++)
        if (seen->key[k] == key)
            return seen->field[k];
    int f = -1;
    if (PLAIN_STR(key))
        for (int k = 0; k < N_FIELDS && f < 0; k++)
            if (same_text(key, KEYS[k]))
                f = k;
    if (seen->n < SEEN_MAX) {
        seen->key[seen->n] = key;
        seen->field[seen->n++] = f;
    }
    return f;
}

/* Sets v[field] to each field's value in the dict (borrowed; NULL for those it lacks), walking
 * its entries in order rather than looking each field up. A bit set per field found. */
static int
fields_of(PyObject *d, PyObject **v, Seen *seen)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    int which = 0;
    for (int k = 0; k < N_FIELDS; k++)
        v[k] = NULL;
    for (int j = 0; PyDict_Next(d, &pos, &key, &value); j++) {
        int f = field_of(key, j, seen);
        if (f >= 0) {
            v[f] = value;
            which |= 1 << f;
        }
    }
    return which;
}

/* Whether a dict's fields are the stored form's (`sentiment` alone may be missing). */
static inline int
stored_form(int which)
{
    return which == ALL_FIELDS || which == (ALL_FIELDS & ~(1 << F_SENTIMENT));
}

/* Whether the fields' values are of the stored types (the text and sentiment are checked with
 * the columns). */
static inline int
stored_types(PyObject **v)
{
    PyObject *parent = v[F_PARENT];
    return PyUnicode_CheckExact(v[F_SITE]) && PyUnicode_CheckExact(v[F_KIND]) && PyDict_CheckExact(v[F_AUTHOR])
           && PyList_CheckExact(v[F_MENTIONS]) && PyDict_CheckExact(v[F_REACTIONS])
           && (parent == Py_None || PyUnicode_CheckExact(parent));
}

/* The author's handle, borrowed, found by walking the dict's few entries: 1 when found, 0 when
 * the dict has none, -1 when a key is not a plain str, for only a look-up (which may run Python
 * code: a key's own __eq__) can say whether that key is "handle". */
static int
handle_of(PyObject *author, PyObject **handle)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    *handle = NULL;
    while (PyDict_Next(author, &pos, &key, &value)) {
        if (key == K_HANDLE)
            *handle = value;
        else if (!PLAIN_STR(key))
            return -1;
        else if (same_text(key, K_HANDLE))
            *handle = value;
    }
    return *handle != NULL;
}

static void
release(PyObject *vals[][N_SLOTS], Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++)
        for (int k = 0; k < N_SLOTS; k++)
            Py_XDECREF(vals[i][k]);
}

/* The lists read() gives, one entry per item (`mentions` only the items' that have any). The
 * dates are not among them: read only when one is not in the stored form (rare), by fields.py. */
enum { L_SITES, L_IDS, L_PARENTS, L_TEXTS, N_LISTS, L_MENTIONS = N_LISTS, N_ALL_LISTS };
enum { C_SITE, C_COMMENT, C_HCODE, C_T, C_HAS_PARENT, C_M_COUNT, C_TOTALS, C_HASH, C_STORED, C_FP, C_CROWDS, N_COLS };
static const Py_ssize_t col_size[N_COLS] = {4, 1, 8, 8, 1, 8, 8, 1, 8, 8, 8};
static const char col_type[N_COLS] = {'i', '?', 'i', 'd', '?', 'i', 'd', '?', 'd', 'u', 'd'};
static const char *col_name[N_COLS] = {"site_ids", "comment", "hcode", "t", "has_parent", "m_count", "totals", "hash",
                                       "stored", "fp", "crowds"};

/* One call's state: its arguments, the columns it writes and the lists it builds. */
typedef struct {
    PyObject *items, *handle_first, *site_map, *new_sites;
    long long first;
    PyObject *lists[N_ALL_LISTS];
    int32_t *site_ids;
    uint8_t *comment, *has_parent, *hash;
    int64_t *hcode, *m_count;
    double *t, *totals, *stored, *crowds;
    uint64_t *fp;
} Read;

/* The fingerprint of an ASCII text's words, as samewords.py computes it from words_of: words are
 * runs of [A-Za-z0-9_] (what Python's \w matches in ASCII), lowered (casefold, for ASCII),
 * joined by single spaces; their bytes are mixed 8 at a time, then their length. FP_NONE under
 * MIN_WORDS words. Reads the text only: no Python API (the second core's thread calls it). */
#define MIN_WORDS 5
#define FP_NONE 0
#define FP_ASK 1
#define FP_SEED 0x9E3779B97F4A7C15ULL
#define FP_MIX 0xBF58476D1CE4E5B9ULL
#define FP_FINAL 0x94D049BB133111EBULL

/* Each ASCII byte as a word's letter lowered, or 0 between words (filled at import). */
static unsigned char WORD_BYTE[128];

static void
fill_word_bytes(void)
{
    for (int c = 0; c < 128; c++)
        WORD_BYTE[c] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? (unsigned char)c
                       : (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : 0;
}

/* Mixes one byte into the fingerprint's pending word, and the word in once it is full. */
#define FP_PUT(b)                                             \
    do {                                                      \
        acc |= (uint64_t)(b) << (8 * filled);                 \
        bytes++;                                              \
        if (++filled == 8) {                                  \
            h = (h ^ acc) * FP_MIX, h ^= h >> 31;             \
            acc = 0, filled = 0;                              \
        }                                                     \
    } while (0)

static uint64_t
ascii_fingerprint(const unsigned char *s, Py_ssize_t n)
{
    uint64_t h = FP_SEED, acc = 0, bytes = 0;
    int filled = 0, in_word = 0;
    Py_ssize_t words = 0;
    for (Py_ssize_t j = 0; j < n; j++) {
        unsigned char c = WORD_BYTE[s[j] & 127];
        if (!c) {
            in_word = 0;
            continue;
        }
        if (!in_word) {
            in_word = 1;
            if (words++)  /* the space before every word but the first */
                FP_PUT(' ');
        }
        FP_PUT(c);
    }
    if (words < MIN_WORDS)
        return FP_NONE;
    if (filled)
        h = (h ^ acc) * FP_MIX, h ^= h >> 31;
    h ^= bytes;
    h *= FP_FINAL;
    h ^= h >> 29;
    return h < 2 ? h + 2 : h;
}

/* The columns of item i that need no Python API, from its field values (of the stored types):
 * 0 when a value is not of the stored form. `*dates_read` falls to 0 at the first date not in
 * the stored form: fields.py then reads every date. */
static int
plain_columns(const Read *r, Py_ssize_t i, PyObject **v, int *dates_read)
{
    PyObject *kind = v[F_KIND], *parent = v[F_PARENT], *text = v[F_TEXT], *at = v[F_AT],
             *reactions = v[F_REACTIONS], *sentiment = v[F_SENTIMENT];
    if (!PLAIN_STR(kind) || !(parent == Py_None || PLAIN_STR(parent)))
        return 0;
    r->comment[i] = (uint8_t)same_text(kind, S_COMMENT);
    r->has_parent[i] = parent != Py_None && PyUnicode_GET_LENGTH(parent) > 0;
    r->m_count[i] = PyList_GET_SIZE(v[F_MENTIONS]);

    /* whether the text holds a '#' (a hashtag is possible). None holds none, as fields.py counts
     * it; anything else that is not a plain str is left to fields.py, which asks it `"#" in
     * text`: a str subclass answers its own way, and a list or dict from captured JSON answers
     * too (["#"]: yes, and then fails to be hashed there) */
    if (PLAIN_STR(text))
        r->hash[i] = (uint8_t)holds_hash(text);
    else if (text == Py_None)
        r->hash[i] = 0;
    else
        return 0;

    /* the words' fingerprint, only for an item that may address a person (as its sentiment);
     * a text not in ASCII is left to samewords.py (FP_ASK) */
    r->fp[i] = FP_NONE;
    if (text != Py_None && ((r->comment[i] && r->has_parent[i]) || r->m_count[i]))
        r->fp[i] = PyUnicode_IS_ASCII(text) ? ascii_fingerprint(PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text))
                                            : FP_ASK;

    if (PyDict_GET_SIZE(reactions)) {
        int64_t most;
        int64_t total = reaction_total(reactions, &most);
        if (total < 0)
            return 0;
        r->totals[i] = (double)total;
        r->crowds[i] = (double)most;
    } else {
        r->totals[i] = 0.0;
        r->crowds[i] = 0.0;
    }

    if (at == Py_None || (PyUnicode_CheckExact(at) && PyUnicode_GET_LENGTH(at) == 0))
        r->t[i] = NAN;
    else if (*dates_read && !canonical_epoch(at, &r->t[i]))
        *dates_read = 0;

    /* a stored sentiment the server wrote (a float), or none: any other value is left to
     * fields.py, which treats ints and the rest its own way */
    if (!sentiment || sentiment == Py_None)
        r->stored[i] = NAN;
    else if (PyFloat_CheckExact(sentiment))
        r->stored[i] = PyFloat_AS_DOUBLE(sentiment);
    else
        return 0;
    return 1;
}

/* What of item i needs Python: its site's code, its handle's number, its entries in the lists. */
enum { P_SITE, P_ID, P_PARENT, P_TEXT, P_HANDLE, P_MENTIONS, N_PASSED };

static int
python_part(Read *r, Py_ssize_t i, PyObject *const *p)
{
    /* a site the scorer does not know gets -(k + 1), k its place among the batch's new sites:
     * the caller adds them once the whole batch is read, so a batch given up on adds nothing */
    PyObject *site = p[P_SITE], *code = field(r->site_map, site);
    if (!code) {
        if (PyErr_Occurred())
            return -1;
        code = field(r->new_sites, site);
        if (!code) {
            if (PyErr_Occurred())
                return -1;
            PyObject *k = PyLong_FromSsize_t(-1 - PyDict_GET_SIZE(r->new_sites));
            if (!k || PyDict_SetItem(r->new_sites, site, k) < 0) {
                Py_XDECREF(k);
                return -1;
            }
            Py_DECREF(k);
            code = field(r->new_sites, site);
        }
    }
    long sid = PyLong_AsLong(code);
    if (sid == -1 && PyErr_Occurred())
        return -1;
    if (sid > INT32_MAX || sid < INT32_MIN) {  /* as numpy refuses it into int32 */
        PyErr_Format(PyExc_OverflowError, "site code %ld does not fit in int32", sid);
        return -1;
    }
    r->site_ids[i] = (int32_t)sid;

    PyObject *h = field(r->handle_first, p[P_HANDLE]);
    if (h) {
        r->hcode[i] = PyLong_AsLongLong(h);
        if (r->hcode[i] == -1 && PyErr_Occurred())
            return -1;
    } else {
        if (PyErr_Occurred())
            return -1;
        PyObject *pos = PyLong_FromLongLong(r->first + i);
        if (!pos || PyDict_SetItem(r->handle_first, p[P_HANDLE], pos) < 0) {
            Py_XDECREF(pos);
            return -1;
        }
        Py_DECREF(pos);
        r->hcode[i] = r->first + i;
    }
    for (int k = 0; k < N_LISTS; k++)  /* P_SITE..P_TEXT are the lists' order */
        PyList_SET_ITEM(r->lists[k], i, Py_NewRef(p[k]));
    if (r->m_count[i] && PyList_Append(r->lists[L_MENTIONS], p[P_MENTIONS]) < 0)
        return -1;
    return 0;
}

/* The first step of reading a block (items lo..hi-1 of those before `end`): each item's field
 * values into vals, asking for the values' memory and for the next blocks' items; 0 when an item
 * is not a dict of the stored form's fields. No Python API. */
static int
block_fields(PyObject *items, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t end, PyObject *vals[][N_SLOTS], Seen *seen)
{
    for (Py_ssize_t j = lo + 2 * BLOCK; j < end && j < lo + 3 * BLOCK; j++)
        prefetch(PyList_GET_ITEM(items, j), 1);
    for (Py_ssize_t j = lo + BLOCK; j < end && j < lo + 2 * BLOCK; j++)
        prefetch_keys(PyList_GET_ITEM(items, j));
    for (Py_ssize_t i = lo; i < hi; i++) {
        PyObject *it = PyList_GET_ITEM(items, i), **v = vals[i - lo];
        if (!PyDict_CheckExact(it) || !stored_form(fields_of(it, v, seen)))
            return 0;
        prefetch(v[F_SITE], 1);
        prefetch(v[F_KIND], 1);
        prefetch(v[F_PARENT], 1);
        prefetch(v[F_AUTHOR], 1);
        prefetch(v[F_AT], 2);
        prefetch(v[F_MENTIONS], 1);
        prefetch(v[F_REACTIONS], 1);
        prefetch(v[F_TEXT], 2);  /* a short text's characters lie in its second line */
    }
    for (Py_ssize_t i = lo; i < hi; i++)
        prefetch_keys(vals[i - lo][F_AUTHOR]);
    return 1;
}

/* Items lo..hi-1, in order, with the Python API at hand: 1 when read, 0 when an item is not of
 * the stored form (the caller gives way), -1 with an error set. With `no_python_code` (while the
 * other share's thread reads) it stops before an item whose author only a look-up that may run
 * Python code can read: 2, the items from *resume on not read.
 *
 * The items are read a block at a time, in steps that ask for the memory the next step reads
 * (prefetch): a million dicts and their values lie all over the heap, and reading them one miss
 * after another cost twice as long as the work. */
static int
read_range(Read *r, Py_ssize_t lo_at, Py_ssize_t end, Seen *seen, int *dates_read, int no_python_code,
           Py_ssize_t *resume)
{
    PyObject *items = r->items;
    PyObject *vals[BLOCK][N_SLOTS];  /* the fields of a block's items, and their authors' handles */
    PyObject *handles[BLOCK];
    Py_ssize_t held = 0;             /* the block's first items whose vals are held */
    int status = -1;
    for (Py_ssize_t j = lo_at; j < end && j < lo_at + 2 * BLOCK; j++)
        prefetch(PyList_GET_ITEM(items, j), 1);
    for (Py_ssize_t lo = lo_at; lo < end; lo += BLOCK) {
        Py_ssize_t hi = lo + BLOCK < end ? lo + BLOCK : end;
        if (!block_fields(items, lo, hi, end, vals, seen)) {
            status = 0;
            goto done;
        }
        for (Py_ssize_t i = lo; i < hi; i++) {
            PyObject **v = vals[i - lo];
            /* held until the block is done (from here, as the values have been fetched): a
             * garbage collection run by an allocation below may run a finaliser, and no Python
             * code may free what this reads */
            for (int k = 0; k < N_FIELDS; k++)
                Py_XINCREF(v[k]);
            v[S_HANDLE] = NULL;
            held = i - lo + 1;
            if (!stored_types(v)) {
                status = 0;
                goto done;
            }
            PyObject *handle;
            int found = handle_of(v[F_AUTHOR], &handle);
            if (found < 0 && no_python_code) {
                *resume = lo;  /* the block's items before it are not read yet either */
                status = 2;
                goto done;
            }
            if (found < 0)
                handle = field(v[F_AUTHOR], K_HANDLE);
            if (!handle) {
                status = PyErr_Occurred() ? -1 : 0;
                goto done;
            }
            handles[i - lo] = handle;  /* borrowed until the next step: nothing allocates before it */
            prefetch(handle, 1);
        }
        for (Py_ssize_t i = lo; i < hi; i++) {
            if (!PyUnicode_CheckExact(handles[i - lo])) {
                status = 0;
                goto done;
            }
            vals[i - lo][S_HANDLE] = Py_NewRef(handles[i - lo]);
        }
        for (Py_ssize_t i = lo; i < hi; i++) {
            PyObject **v = vals[i - lo];
            if (!plain_columns(r, i, v, dates_read)) {
                status = 0;
                goto done;
            }
            PyObject *passed[N_PASSED] = {v[F_SITE], v[F_ID], v[F_PARENT], v[F_TEXT], v[S_HANDLE], v[F_MENTIONS]};
            if (python_part(r, i, passed) < 0)
                goto done;
        }
        release(vals, held);
        held = 0;
    }
    status = 1;
done:
    release(vals, held);
    return status;
}

/* The later share of a large batch, read on a second core: what needs no Python API (its
 * columns, and the objects python_part takes, borrowed), up to the first item that needs the
 * API, a block's start at the latest (`stop`). The calling thread holds the GIL all along and
 * waits for this one before it uses anything it wrote: no Python code runs meanwhile, so nothing
 * read here can change or be freed, and nothing here touches a reference count or allocates. */
typedef struct {
    Read *r;
    Py_ssize_t lo, end, stop;
    PyObject *(*passed)[N_PASSED];  /* item lo + j's in passed[j] */
    int dates_read;
} Share;

static void *
read_share(void *arg)
{
    Share *s = arg;
    Read *r = s->r;
    PyObject *items = r->items;
    PyObject *vals[BLOCK][N_SLOTS];
    Seen seen = {.n = 0};
    s->stop = s->lo;
    for (Py_ssize_t j = s->lo; j < s->end && j < s->lo + 2 * BLOCK; j++)
        prefetch(PyList_GET_ITEM(items, j), 1);
    for (Py_ssize_t lo = s->lo; lo < s->end; lo += BLOCK) {
        Py_ssize_t hi = lo + BLOCK < s->end ? lo + BLOCK : s->end;
        if (!block_fields(items, lo, hi, s->end, vals, &seen))
            return NULL;
        for (Py_ssize_t i = lo; i < hi; i++) {
            PyObject **v = vals[i - lo];
            if (!stored_types(v) || handle_of(v[F_AUTHOR], &v[S_HANDLE]) != 1)
                return NULL;
            prefetch(v[S_HANDLE], 1);
        }
        for (Py_ssize_t i = lo; i < hi; i++) {
            PyObject **v = vals[i - lo];
            if (!PLAIN_STR(v[S_HANDLE]) || !plain_columns(r, i, v, &s->dates_read))
                return NULL;
            PyObject **p = s->passed[i - s->lo];
            p[P_SITE] = v[F_SITE], p[P_ID] = v[F_ID], p[P_PARENT] = v[F_PARENT], p[P_TEXT] = v[F_TEXT];
            p[P_HANDLE] = v[S_HANDLE], p[P_MENTIONS] = v[F_MENTIONS];
            s->stop = i + 1;
        }
    }
    return NULL;
}

/* The share of a large batch the calling thread reads itself: it also does the Python part of
 * the other share, which takes it about a third as long as that share's reading. */
#define OWN_SHARE 0.42

static int
two_cores(void)
{
#ifdef TWO_CORES_POSSIBLE
    static long cores = 0;
    if (!cores)
        cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores >= 2;
#else
    return 0;
#endif
}

PyDoc_STRVAR(read_doc,
"read(items, handle_first, first, sites, new_sites, site_ids, comment, hcode, t, has_parent,\n"
"     m_count, totals, hash, stored, fp, crowds[, split_min])\n"
"\n"
"Reads stored-form item dicts into the given numpy columns (int32 site ids, bool comment,\n"
"int64 handle codes numbered by first appearance from `first` in `handle_first`, float64\n"
"epoch seconds, bool has-a-parent, int64 mention counts, float64 reaction totals, bool has a\n"
"'#', float64 stored sentiment or NaN, uint64 fingerprint of the words of an item that may\n"
"address a person: 0 none, 1 a text not in ASCII, for samewords.py, float64 largest count of\n"
"one reaction) and returns (sites, ids,\n"
"parents, texts, mentions, dates_read): lists of the items' fields (`mentions`: the non-empty\n"
"mention lists, in order) and whether every date was in the stored form (if not, `t` is not\n"
"written). `sites`\n"
"maps a site to its id; a site it lacks is put in the empty dict `new_sites` and its items\n"
"get -(k + 1), k its order of first appearance among them. None when an item is not of the\n"
"stored form: the caller then reads the batch itself. A batch of `split_min` items or more\n"
"is read on two cores when there are two (none without `split_min`, or with a negative one).");

static PyObject *
read_items(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 + N_COLS && nargs != 6 + N_COLS) {
        PyErr_Format(PyExc_TypeError, "read() takes %d or %d arguments", 5 + N_COLS, 6 + N_COLS);
        return NULL;
    }
    Read r = {.items = args[0], .handle_first = args[1], .site_map = args[3], .new_sites = args[4]};
    if (!PyList_CheckExact(r.items) || !PyDict_CheckExact(r.handle_first) || !PyDict_CheckExact(r.site_map)
        || !PyDict_CheckExact(r.new_sites) || PyDict_GET_SIZE(r.new_sites)) {
        PyErr_SetString(PyExc_TypeError, "read(): items must be a list, handle_first and sites dicts, new_sites empty");
        return NULL;
    }
    r.first = PyLong_AsLongLong(args[2]);
    if (r.first == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t split_min = -1;
    if (nargs == 6 + N_COLS && (split_min = PyLong_AsSsize_t(args[5 + N_COLS])) == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(r.items);

    Py_buffer view[N_COLS];
    int got = 0;
    PyObject *result = NULL;
    PyObject *(*passed)[N_PASSED] = NULL;
    int status = -1, dates_read = 1;
    for (; got < N_COLS; got++)
        if (column(args[5 + got], &view[got], n, col_size[got], col_type[got], col_name[got]) < 0)
            goto done;
    for (int k = 0; k < N_LISTS; k++)
        if (!(r.lists[k] = PyList_New(n)))
            goto done;
    if (!(r.lists[L_MENTIONS] = PyList_New(0)))
        goto done;
    r.site_ids = view[C_SITE].buf, r.comment = view[C_COMMENT].buf, r.has_parent = view[C_HAS_PARENT].buf;
    r.hash = view[C_HASH].buf, r.stored = view[C_STORED].buf, r.hcode = view[C_HCODE].buf;
    r.m_count = view[C_M_COUNT].buf, r.t = view[C_T].buf, r.totals = view[C_TOTALS].buf, r.fp = view[C_FP].buf;
    r.crowds = view[C_CROWDS].buf;

    Seen seen = {.n = 0};
    Py_ssize_t own = n;
    if (split_min >= 0 && n >= split_min && n >= 2 && two_cores()) {
        own = (Py_ssize_t)(n * OWN_SHARE);
        if (own < 1)
            own = 1;
    }
    Share share = {.r = &r, .lo = own, .end = n, .stop = own, .dates_read = 1};
    int started = 0;
#ifdef TWO_CORES_POSSIBLE
    pthread_t worker;
    if (own < n && (passed = PyMem_RawMalloc((size_t)(n - own) * sizeof *passed)) != NULL) {
        share.passed = passed;
        started = pthread_create(&worker, NULL, read_share, &share) == 0;
    }
#endif
    Py_ssize_t resume = 0, next = own;
    status = read_range(&r, 0, own, &seen, &dates_read, started, &resume);
#ifdef TWO_CORES_POSSIBLE
    if (started)
        pthread_join(worker, NULL);
#endif
    if (status == 2) {
        /* an author of this share needed a look-up that may run Python code, which may have
         * changed what the thread read: from that item on, everything is read here */
        status = 1;
        next = resume;
    } else if (status == 1 && started) {
        dates_read &= share.dates_read;
        for (Py_ssize_t i = own; i < share.stop; i++) {
            if (i + AHEAD_PASSED < share.stop)
                for (int k = P_ID; k < N_PASSED; k++)
                    prefetch(passed[i + AHEAD_PASSED - own][k], 1);
            if (python_part(&r, i, passed[i - own]) < 0) {
                status = -1;
                break;
            }
        }
        next = share.stop;  /* from here (an item that needs the API, or nothing) on this core */
    }
    if (status == 1 && next < n)
        status = read_range(&r, next, n, &seen, &dates_read, 0, &resume);
    if (status == 1)
        result = Py_BuildValue("(OOOOOO)", r.lists[L_SITES], r.lists[L_IDS], r.lists[L_PARENTS], r.lists[L_TEXTS],
                               r.lists[L_MENTIONS], dates_read ? Py_True : Py_False);

done:
    PyMem_RawFree(passed);
    for (int k = 0; k < got; k++)
        PyBuffer_Release(&view[k]);
    for (int k = 0; k < N_ALL_LISTS; k++)
        Py_XDECREF(r.lists[k]);  /* a list cut short holds NULLs, which its dealloc skips */
    if (status == 0 && !result && !PyErr_Occurred())
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
    for (int k = 0; k < N_FIELDS; k++)
        if (!(KEYS[k] = PyUnicode_InternFromString(FIELD_NAMES[k])))
            return NULL;
    if (!(K_HANDLE = PyUnicode_InternFromString("handle")) || !(S_COMMENT = PyUnicode_InternFromString("comment")))
        return NULL;
    fill_word_bytes();
    return PyModule_Create(&module);
}
