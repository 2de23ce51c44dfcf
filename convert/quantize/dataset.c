/*
 * Representative datasets (.npy, .npz, directory of .npy); see dataset.h.
 * The .npz container is a zip archive read with libzip; each member is a
 * .npy parsed by tools/lib/npy.h (host library code, as this is).
 */
#define _POSIX_C_SOURCE 200809L
#include "convert/quantize/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "tools/lib/file_io.h"
#include "tools/lib/npy.h"

struct tml_dataset {
    int32_t ninputs;
    int32_t count;
    size_t elements[TML_IR_MAX_IO];
    float *data[TML_IR_MAX_IO];       /* count * elements[i] floats */
};

void tml_dataset_free(tml_dataset *d)
{
    if (!d)
        return;
    for (int32_t i = 0; i < d->ninputs; i++)
        free(d->data[i]);
    free(d);
}

int32_t tml_dataset_count(const tml_dataset *d) { return d->count; }
int32_t tml_dataset_inputs(const tml_dataset *d) { return d->ninputs; }

size_t tml_dataset_elements(const tml_dataset *d, int32_t input)
{
    return d->elements[input];
}

const float *tml_dataset_sample(const tml_dataset *d, int32_t input, int32_t i)
{
    return d->data[input] + (size_t)i * d->elements[input];
}

tml_dataset *tml_dataset_from_floats(int32_t ninputs, int32_t count,
                                     const size_t *elements,
                                     const float *const *data)
{
    if (ninputs < 1 || ninputs > TML_IR_MAX_IO || count < 0)
        return NULL;
    tml_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->ninputs = ninputs;
    d->count = count;
    for (int32_t i = 0; i < ninputs; i++) {
        size_t bytes = (size_t)count * elements[i] * sizeof(float);
        d->elements[i] = elements[i];
        d->data[i] = malloc(bytes ? bytes : 1);
        if (!d->data[i]) {
            tml_dataset_free(d);
            return NULL;
        }
        if (bytes)
            memcpy(d->data[i], data[i], bytes);
    }
    return d;
}

/* ---------------------------------------------------------- shape rules */

static void format_dims(const int32_t *dims, int32_t ndims, char *out,
                        size_t size)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int32_t i = 0; i < ndims && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%d",
                                 i ? ", " : "", (int)dims[i]);
    if (used < size)
        snprintf(out + used, size - used, "]");
}

static void format_npy_dims(const tml_npy *a, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (int32_t i = 0; i < a->ndims && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%llu",
                                 i ? ", " : "", (unsigned long long)a->dims[i]);
    if (used < size)
        snprintf(out + used, size - used, "]");
}

/* The input's shape without a leading batch of 1. */
static void sample_shape(const tml_ir_tensor *t, int32_t *dims,
                         int32_t *ndims)
{
    int32_t skip = t->ndims > 0 && t->dims[0] == 1 ? 1 : 0;
    *ndims = t->ndims - skip;
    for (int32_t i = skip; i < t->ndims; i++)
        dims[i - skip] = t->dims[i];
}

static int dims_equal(const tml_npy *a, int32_t from, const int32_t *dims,
                      int32_t ndims)
{
    if (a->ndims - from != ndims)
        return 0;
    for (int32_t i = 0; i < ndims; i++) {
        if (a->dims[from + i] != (uint64_t)dims[i])
            return 0;
    }
    return 1;
}

/* Does a's shape from axis `from` on describe one sample of t: the input
 * shape with or without its batch of 1, or the flattened input? */
static int sample_matches(const tml_npy *a, int32_t from,
                          const tml_ir_tensor *t)
{
    int32_t dims[TML_MAX_DIMS], ndims;
    sample_shape(t, dims, &ndims);
    if (dims_equal(a, from, dims, ndims) ||
        dims_equal(a, from, t->dims, t->ndims))
        return 1;
    return a->ndims - from == 1 && a->dims[from] == tml_ir_elements(t);
}

static int shape_error(const tml_npy *a, const tml_ir_tensor *t, int batched,
                       char *err, size_t n)
{
    int32_t dims[TML_MAX_DIMS], ndims;
    sample_shape(t, dims, &ndims);
    char want[128], got[128];
    format_dims(dims, ndims, want, sizeof want);
    format_npy_dims(a, got, sizeof got);
    snprintf(err, n, "input '%s': expected %s%s (or %zu flattened) float32, "
             "got %s %s", t->name, batched ? "N x " : "", want,
             tml_ir_elements(t), got,
             tml_npy_descr(a->dtype) ? tml_npy_descr(a->dtype) : "?");
    return -1;
}

static int dtype_error(const tml_npy *a, const tml_ir_tensor *t, char *err,
                       size_t n)
{
    snprintf(err, n, "input '%s': expected float32 (<f4) samples, got %s",
             t->name, tml_npy_descr(a->dtype) ? tml_npy_descr(a->dtype) : "?");
    return -1;
}

/* A .npy the reader refuses: for a dtype it does not know (float64, ...)
 * say what the dataset expects instead of the reader's whole list. */
static void parse_error(const char *msg, const tml_ir_tensor *t, char *err,
                        size_t n)
{
    const char *p = strstr(msg, "unsupported dtype '");
    if (p) {
        p += strlen("unsupported dtype '");
        const char *q = strchr(p, '\'');
        int len = q ? (int)(q - p) : (int)strlen(p);
        snprintf(err, n, "input '%s': expected float32 (<f4) samples, got "
                 "%.*s", t->name, len, p);
        return;
    }
    snprintf(err, n, "%s", msg);
}

/* Copies a batched array (N x sample) into input i of d, or sets the count
 * when it is the first. */
static int take_batched(tml_dataset *d, int32_t i, const tml_npy *a,
                        const tml_ir_tensor *t, char *err, size_t n)
{
    if (a->dtype != TML_FLOAT32)
        return dtype_error(a, t, err, n);
    if (a->ndims < 1 || !sample_matches(a, 1, t))
        return shape_error(a, t, 1, err, n);
    if (a->dims[0] > INT32_MAX)
        return shape_error(a, t, 1, err, n);
    int32_t count = (int32_t)a->dims[0];
    if (i > 0 && count != d->count) {
        snprintf(err, n, "input '%s': %d samples, but input 0 has %d",
                 t->name, (int)count, (int)d->count);
        return -1;
    }
    d->count = count;
    d->elements[i] = tml_ir_elements(t);
    d->data[i] = malloc(a->data_bytes ? a->data_bytes : 1);
    if (!d->data[i]) {
        snprintf(err, n, "out of memory for %zu bytes", a->data_bytes);
        return -1;
    }
    memcpy(d->data[i], a->data, a->data_bytes);
    return 0;
}

/* ------------------------------------------------------------- formats */

static int check_inputs(const tml_ir_graph *g, char *err, size_t n)
{
    if (g->ninputs < 1 || g->ninputs > TML_IR_MAX_IO) {
        snprintf(err, n, "the graph has %d inputs", (int)g->ninputs);
        return -1;
    }
    for (int32_t i = 0; i < g->ninputs; i++) {
        const tml_ir_tensor *t = &g->tensors[g->inputs[i]];
        if (t->dtype != TML_FLOAT32) {
            snprintf(err, n, "input '%s' is %s: calibration data is float32",
                     t->name, tml_dtype_name(t->dtype));
            return -1;
        }
    }
    return 0;
}

static int load_npy(const char *path, const tml_ir_graph *g, tml_dataset *d,
                    char *err, size_t n)
{
    if (g->ninputs != 1) {
        snprintf(err, n, "the model has %d inputs: give a .npz with one "
                 "array per input", (int)g->ninputs);
        return -1;
    }
    size_t size;
    char msg[256];
    void *buf = tml_read_file(path, &size, msg, sizeof msg);
    if (!buf) {
        snprintf(err, n, "%s", msg);
        return -1;
    }
    tml_npy a;
    int rc = tml_npy_parse(buf, size, &a, msg, sizeof msg);
    if (rc < 0)
        parse_error(msg, &g->tensors[g->inputs[0]], err, n);
    else
        rc = take_batched(d, 0, &a, &g->tensors[g->inputs[0]], err, n);
    free(buf);
    return rc;
}

/* One zip member into malloc'd memory. */
static void *read_member(zip_t *z, zip_uint64_t index, size_t *size,
                         char *err, size_t n)
{
    zip_stat_t st;
    if (zip_stat_index(z, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        snprintf(err, n, "member %llu: %s", (unsigned long long)index,
                 zip_strerror(z));
        return NULL;
    }
    if (st.size > ((zip_uint64_t)1 << 32)) {
        snprintf(err, n, "member '%s': %llu bytes is too large", st.name,
                 (unsigned long long)st.size);
        return NULL;
    }
    void *buf = malloc(st.size ? (size_t)st.size : 1);
    zip_file_t *f = buf ? zip_fopen_index(z, index, 0) : NULL;
    if (!f) {
        snprintf(err, n, "member '%s': %s", st.name,
                 buf ? zip_strerror(z) : "out of memory");
        free(buf);
        return NULL;
    }
    zip_int64_t got = zip_fread(f, buf, st.size);
    zip_fclose(f);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        snprintf(err, n, "member '%s': read error", st.name);
        free(buf);
        return NULL;
    }
    *size = (size_t)st.size;
    return buf;
}

/* The member for input i: "<name>.npy" when present, else the i-th. */
static zip_int64_t find_member(zip_t *z, const tml_ir_tensor *t, int32_t i,
                               zip_int64_t members)
{
    char want[512];
    snprintf(want, sizeof want, "%s.npy", t->name);
    zip_int64_t byname = zip_name_locate(z, want, 0);
    if (byname >= 0)
        return byname;
    return i < members ? i : -1;
}

static int load_npz(const char *path, const tml_ir_graph *g, tml_dataset *d,
                    char *err, size_t n)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &zerr);
    if (!z) {
        zip_error_t e;
        zip_error_init_with_code(&e, zerr);
        snprintf(err, n, "not a readable .npz (zip): %s", zip_error_strerror(&e));
        zip_error_fini(&e);
        return -1;
    }
    zip_int64_t members = zip_get_num_entries(z, 0);
    if (members < g->ninputs) {
        snprintf(err, n, "%lld arrays for %d model inputs", (long long)members,
                 (int)g->ninputs);
        zip_close(z);
        return -1;
    }
    int rc = 0;
    for (int32_t i = 0; i < g->ninputs && rc == 0; i++) {
        const tml_ir_tensor *t = &g->tensors[g->inputs[i]];
        zip_int64_t m = find_member(z, t, i, members);
        size_t size = 0;
        char msg[256];
        void *buf = m < 0 ? NULL : read_member(z, (zip_uint64_t)m, &size, msg,
                                               sizeof msg);
        if (!buf) {
            snprintf(err, n, "input '%s': %s", t->name,
                     m < 0 ? "no array for it" : msg);
            rc = -1;
            break;
        }
        tml_npy a;
        if (tml_npy_parse(buf, size, &a, msg, sizeof msg) < 0) {
            char m2[320];
            parse_error(msg, t, m2, sizeof m2);
            snprintf(err, n, "member '%s': %s", zip_get_name(z, (zip_uint64_t)m, 0),
                     m2);
            rc = -1;
        } else {
            rc = take_batched(d, i, &a, t, err, n);
        }
        free(buf);
    }
    zip_close(z);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *tail)
{
    size_t ls = strlen(s), lt = strlen(tail);
    return ls >= lt && strcmp(s + ls - lt, tail) == 0;
}

/* The sorted names of the .npy files in dir (malloc'd array of malloc'd
 * strings), or -1. */
static int list_npy(const char *dir, char ***names, int32_t *count, char *err,
                    size_t n)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        snprintf(err, n, "%s", strerror(errno));
        return -1;
    }
    char **v = NULL;
    int32_t k = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dp)) != NULL) {
        if (!ends_with(e->d_name, ".npy") || e->d_name[0] == '.')
            continue;
        if (k == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(v, sizeof *p * (size_t)cap);
            if (!p) {
                rc = -1;
                break;
            }
            v = p;
        }
        v[k] = strdup(e->d_name);
        if (!v[k]) {
            rc = -1;
            break;
        }
        k++;
    }
    closedir(dp);
    if (rc == 0 && k > 0)
        qsort(v, (size_t)k, sizeof *v, by_name);
    *names = v;
    *count = k;
    if (rc < 0)
        snprintf(err, n, "out of memory listing the directory");
    return rc;
}

static int load_one_sample(const char *dir, const char *name,
                           const tml_ir_tensor *t, float *dst, char *err,
                           size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t size;
    char msg[256];
    void *buf = tml_read_file(path, &size, msg, sizeof msg);
    if (!buf) {
        snprintf(err, n, "%s", msg);
        return -1;
    }
    tml_npy a;
    int rc = tml_npy_parse(buf, size, &a, msg, sizeof msg);
    if (rc < 0) {
        char m2[320];
        parse_error(msg, t, m2, sizeof m2);
        snprintf(err, n, "%s: %s", name, m2);
    } else if (a.dtype != TML_FLOAT32) {
        char m2[256];
        dtype_error(&a, t, m2, sizeof m2);
        snprintf(err, n, "%s: %s", name, m2);
        rc = -1;
    } else if (!sample_matches(&a, 0, t)) {
        char m2[256];
        shape_error(&a, t, 0, m2, sizeof m2);
        snprintf(err, n, "%s: %s", name, m2);
        rc = -1;
    } else {
        memcpy(dst, a.data, a.data_bytes);
    }
    free(buf);
    return rc;
}

static int load_dir(const char *path, const tml_ir_graph *g, tml_dataset *d,
                    char *err, size_t n)
{
    if (g->ninputs != 1) {
        snprintf(err, n, "the model has %d inputs: a directory of .npy "
                 "samples serves single-input models (use a .npz)",
                 (int)g->ninputs);
        return -1;
    }
    char **names;
    int32_t count;
    if (list_npy(path, &names, &count, err, n) < 0)
        return -1;
    const tml_ir_tensor *t = &g->tensors[g->inputs[0]];
    size_t elems = tml_ir_elements(t);
    int rc = 0;
    if (count == 0) {
        snprintf(err, n, "no .npy files in the directory");
        rc = -1;
    }
    d->elements[0] = elems;
    d->count = count;
    d->data[0] = rc == 0 ? malloc((size_t)count * elems * sizeof(float) + 1)
                         : NULL;
    if (rc == 0 && !d->data[0]) {
        snprintf(err, n, "out of memory for %d samples", (int)count);
        rc = -1;
    }
    for (int32_t i = 0; i < count && rc == 0; i++)
        rc = load_one_sample(path, names[i], t, d->data[0] + (size_t)i * elems,
                             err, n);
    for (int32_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

int tml_dataset_load(const char *path, const tml_ir_graph *g,
                     tml_dataset **out, char *err, size_t n)
{
    *out = NULL;
    char msg[384];
    if (check_inputs(g, msg, sizeof msg) < 0) {
        snprintf(err, n, "%s: %s", path, msg);
        return -1;
    }
    tml_dataset *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, n, "%s: out of memory", path);
        return -1;
    }
    d->ninputs = g->ninputs;
    struct stat st;
    int rc;
    if (stat(path, &st) != 0) {
        snprintf(msg, sizeof msg, "%s", strerror(errno));
        rc = -1;
    } else if (S_ISDIR(st.st_mode)) {
        rc = load_dir(path, g, d, msg, sizeof msg);
    } else if (ends_with(path, ".npz")) {
        rc = load_npz(path, g, d, msg, sizeof msg);
    } else if (ends_with(path, ".npy")) {
        rc = load_npy(path, g, d, msg, sizeof msg);
    } else {
        snprintf(msg, sizeof msg, "expected a .npy or .npz file or a "
                 "directory of .npy files");
        rc = -1;
    }
    if (rc == 0 && d->count == 0) {
        snprintf(msg, sizeof msg, "no samples");
        rc = -1;
    }
    if (rc < 0) {
        snprintf(err, n, "%s: %s", path, msg);
        tml_dataset_free(d);
        return -1;
    }
    *out = d;
    return 0;
}
