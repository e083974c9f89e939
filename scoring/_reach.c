/* Reach (reach.py) in C: the widest paths of at most `steps` steps into each target, summed over
 * the people they start from, when the compiler was there.
 *
 * A full pass asks it for every target whose raw score is above what its direct engagers allow.
 * numpy does it a step at a time for all of them at once, sorting each step's paths to keep one
 * per (target, person); most targets pass their `enough` after a few people, which a per-target
 * search notices at once and numpy only at the end of a step, after following a hub's thousands
 * of engagers. Results are those of reach.reach exactly: every width is a snapped presence or the
 * narrower of two, so the sums are exact in any order, and a target stopped early is known only
 * to be at least `enough`, as there.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "_cshared.h"
#include <math.h>
#include <stdint.h>

static int
buffer(PyObject *obj, Buf *b, Py_ssize_t n, char type, Py_ssize_t size, int writable, const char *name)
{
    b->open = 0;
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    b->open = 1;
    if (b->view.itemsize != size || (n >= 0 && b->view.len != n * size) || !native_type(b->view.format, type)) {
        PyErr_Format(PyExc_ValueError, "%s: %zd items of type '%c' and %zd bytes expected", name, n, type, size);
        return -1;
    }
    return 0;
}

typedef struct {
    int64_t who;
    double width;
} Step;

/* One target's reach, with best[] all 0 and at[] all -1 on entry and on return. */
typedef struct {
    /* each node's in-pairs: order[indptr[u]] .. order[indptr[u + 1] - 1], and the same in the
     * pairs appended since the index was last merged (tail_*) */
    const int64_t *indptr, *tail_indptr;
    const int32_t *order, *tail_order;
    const int64_t *actor;   /* by pair */
    const uint8_t *person;
    const double *pres;
} Pairs;

static double
one(const Pairs *P, int64_t t, double enough, int steps, double *best, int64_t *at, int64_t *touched,
    Step *frontier, Step *next)
{
    double sum = 0.0;
    Py_ssize_t nt = 0, nf = 1;
    frontier[0].who = t;
    frontier[0].width = HUGE_VAL;
    for (int step = 0; step < steps && nf && sum < enough; step++) {
        Py_ssize_t nn = 0;
        for (Py_ssize_t f = 0; f < nf && sum < enough; f++) {
            int64_t u = frontier[f].who;
            double wu = frontier[f].width;
            int64_t main_end = P->indptr[u + 1], end = main_end + P->tail_indptr[u + 1] - P->tail_indptr[u];
            for (int64_t j = P->indptr[u]; j < end; j++) {
                int32_t q = j < main_end ? P->order[j] : P->tail_order[P->tail_indptr[u] + j - main_end];
                double a = P->pres[q];
                int64_t p = P->actor[q];
                if (!P->person[q] || a <= 0.0 || p == t)
                    continue;
                double w = a < wu ? a : wu;
                if (w <= best[p])
                    continue;
                if (best[p] == 0.0)
                    touched[nt++] = p;
                sum += w - best[p];
                best[p] = w;
                /* one place in the next step per person: a wider path found later in this step
                 * widens it there */
                if (at[p] < 0) {
                    at[p] = nn;
                    next[nn].who = p;
                    nn++;
                }
                next[at[p]].width = w;
                if (sum >= enough)
                    break;
            }
        }
        for (Py_ssize_t i = 0; i < nn; i++)
            at[next[i].who] = -1;
        Step *swap = frontier;
        frontier = next;
        next = swap;
        nf = nn;
    }
    for (Py_ssize_t i = 0; i < nt; i++)
        best[touched[i]] = 0.0;
    return sum;
}

PyDoc_STRVAR(reach_doc,
"reach(indptr, order, tail_indptr, tail_order, actor, person, presence, targets, enough, steps, out)\n"
"\n"
"For each target: the sum over people of their widest path of at most `steps` steps into it\n"
"(a path's width is its narrowest presence), the target itself left out; a target whose sum\n"
"reaches enough[i] is left there (out[i] >= enough[i]). A node u's in-pairs are\n"
"order[indptr[u]:indptr[u + 1]] and tail_order[tail_indptr[u]:tail_indptr[u + 1]] (int64\n"
"indptr of n + 1, int32 order, the same for the tail); by pair, actor (int64),\n"
"person (bool: pairs that are not are skipped) and presence (float64, <= 0: no pair). targets\n"
"int64, enough and out float64; out is written.");

static PyObject *
reach(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError,
                        "reach(indptr, order, tail_indptr, tail_order, actor, person, presence, targets, enough, steps, out)");
        return NULL;
    }
    long steps = PyLong_AsLong(args[9]);
    if (steps == -1 && PyErr_Occurred())
        return NULL;
    if (steps < 0 || steps > 64) {
        PyErr_SetString(PyExc_ValueError, "steps: from 0 to 64");
        return NULL;
    }
    Buf b[10] = {{.open = 0}};
    PyObject *result = NULL;
    double *best = NULL;
    int64_t *at = NULL, *touched = NULL;
    Step *frontier = NULL, *next = NULL;
    if (buffer(args[0], &b[0], -1, 'i', 8, 0, "indptr") < 0)
        goto done;
    Py_ssize_t n = b[0].view.len / 8 - 1;
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "indptr: at least one entry expected");
        goto done;
    }
    const int64_t *indptr = b[0].view.buf;
    if (buffer(args[1], &b[1], indptr[n], 'i', 4, 0, "order") < 0 || buffer(args[2], &b[2], n + 1, 'i', 8, 0, "tail_indptr") < 0)
        goto done;
    const int64_t *tail_indptr = b[2].view.buf;
    if (buffer(args[3], &b[3], tail_indptr[n], 'i', 4, 0, "tail_order") < 0 || buffer(args[4], &b[4], -1, 'i', 8, 0, "actor") < 0)
        goto done;
    Py_ssize_t npairs = b[4].view.len / 8;
    if (buffer(args[5], &b[5], npairs, '?', 1, 0, "person") < 0 || buffer(args[6], &b[6], npairs, 'd', 8, 0, "presence") < 0
        || buffer(args[7], &b[7], -1, 'i', 8, 0, "targets") < 0)
        goto done;
    Py_ssize_t k = b[7].view.len / 8;
    if (buffer(args[8], &b[8], k, 'd', 8, 0, "enough") < 0 || buffer(args[10], &b[9], k, 'd', 8, 1, "out") < 0)
        goto done;
    Pairs P = {indptr, tail_indptr, b[1].view.buf, b[3].view.buf, b[4].view.buf, b[5].view.buf, b[6].view.buf};
    const int64_t *targets = b[7].view.buf;
    const double *enough = b[8].view.buf;
    double *out = b[9].view.buf;
    /* checked once here, so the search trusts every index it follows */
    const int64_t *ptrs[2] = {indptr, tail_indptr};
    const int32_t *orders[2] = {P.order, P.tail_order};
    for (int h = 0; h < 2; h++) {
        if (ptrs[h][0] != 0) {
            PyErr_SetString(PyExc_ValueError, "indptr: must start at 0");
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            if (ptrs[h][i + 1] < ptrs[h][i]) {
                PyErr_SetString(PyExc_ValueError, "indptr: must not decrease");
                goto done;
            }
        for (Py_ssize_t j = 0; j < ptrs[h][n]; j++)
            if (orders[h][j] < 0 || orders[h][j] >= npairs) {
                PyErr_Format(PyExc_ValueError, "order[%zd]: not a pair", j);
                goto done;
            }
    }
    for (Py_ssize_t q = 0; q < npairs; q++) {
        if (P.person[q] && (P.actor[q] < 0 || P.actor[q] >= n)) {
            PyErr_Format(PyExc_ValueError, "actor[%zd]: not a node", q);
            goto done;
        }
        if (isnan(P.pres[q])) {
            PyErr_Format(PyExc_ValueError, "presence[%zd]: not a number", q);
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < k; i++)
        if (targets[i] < 0 || targets[i] >= n) {
            PyErr_Format(PyExc_ValueError, "targets[%zd]: not a node", i);
            goto done;
        }
    Py_ssize_t size = n ? n : 1;
    best = PyMem_Calloc(size, sizeof *best);
    at = PyMem_Malloc(size * sizeof *at);
    touched = PyMem_Malloc(size * sizeof *touched);
    frontier = PyMem_Malloc(size * sizeof *frontier);
    next = PyMem_Malloc(size * sizeof *next);
    if (!best || !at || !touched || !frontier || !next) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < size; i++)
        at[i] = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < k; i++)
        out[i] = one(&P, targets[i], enough[i], (int)steps, best, at, touched, frontier, next);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(best);
    PyMem_Free(at);
    PyMem_Free(touched);
    PyMem_Free(frontier);
    PyMem_Free(next);
    release_bufs(b, 10);
    return result;
}

static PyMethodDef methods[] = {
    {"reach", (PyCFunction)(void (*)(void))reach, METH_FASTCALL, reach_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "scoring._reach", "Reach in C (see reach.py).", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__reach(void)
{
    return PyModule_Create(&module);
}
