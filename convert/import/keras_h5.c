/*
 * The HDF5 side of the Keras importer: root string attributes
 * (model_config, keras_version) and weight datasets, in the two layouts
 * Keras writes (see keras_internal.h).  HDF5's own error stack printing is
 * switched off: every failure becomes one line in err.
 */
#include "convert/import/keras_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

struct keras_h5 {
    hid_t file;
    char label[160];
};

/* HDF5 prints an error stack to stderr by default; we report instead. */
static void quiet_hdf5(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static keras_h5 *wrap(hid_t file, const char *label)
{
    keras_h5 *h = calloc(1, sizeof *h);
    if (!h) {
        H5Fclose(file);
        return NULL;
    }
    h->file = file;
    snprintf(h->label, sizeof h->label, "%s", label);
    return h;
}

keras_h5 *keras_h5_open_file(const char *path, char *err, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, n, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got != sizeof head || memcmp(head, sig, sizeof sig) != 0) {
        snprintf(err, n, "'%s' is not an HDF5 file (no HDF5 signature)", path);
        return NULL;
    }
    quiet_hdf5();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        snprintf(err, n, "'%s': HDF5 cannot open it (truncated or corrupt file)", path);
        return NULL;
    }
    keras_h5 *h = wrap(file, path);
    if (!h)
        snprintf(err, n, "out of memory");
    return h;
}

keras_h5 *keras_h5_open_memory(const void *buf, size_t size, const char *label,
                               char *err, size_t n)
{
    quiet_hdf5();
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 ||
        H5Pset_file_image(fapl, (void *)buf, size) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        snprintf(err, n, "%s: HDF5 cannot take the file image", label);
        return NULL;
    }
    hid_t file = H5Fopen(label, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (file < 0) {
        snprintf(err, n, "%s: HDF5 cannot open it (truncated or corrupt file)", label);
        return NULL;
    }
    keras_h5 *h = wrap(file, label);
    if (!h)
        snprintf(err, n, "out of memory");
    return h;
}

void keras_h5_close(keras_h5 *h)
{
    if (!h)
        return;
    H5Fclose(h->file);
    free(h);
}

void keras_array_free(keras_array *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Reads a string attribute holding `count` strings (fixed-length or
 * variable-length, as h5py writes either) into malloc'd copies.  An empty
 * attribute of any type (h5py writes [] as float64) gives 0 strings.
 * 0 or -1. */
static int read_strings(hid_t obj, const char *attr, char ***out, int *count,
                        char *err, size_t n)
{
    int rc = -1;
    hid_t a = -1, type = -1, space = -1, mem = -1;
    char **vl = NULL, *fixed = NULL, **res = NULL;
    hssize_t np = 0;
    *out = NULL;
    *count = 0;
    a = H5Aopen(obj, attr, H5P_DEFAULT);
    if (a < 0) {
        snprintf(err, n, "cannot open attribute '%s'", attr);
        goto done;
    }
    type = H5Aget_type(a);
    space = H5Aget_space(a);
    np = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (type < 0 || np < 0 || np > 1000000) {
        snprintf(err, n, "attribute '%s' is unreadable", attr);
        goto done;
    }
    if (np == 0) {
        rc = 0;
        goto done;
    }
    if (H5Tget_class(type) != H5T_STRING) {
        snprintf(err, n, "attribute '%s' is not a string", attr);
        goto done;
    }
    res = calloc((size_t)np, sizeof *res);
    if (!res) {
        snprintf(err, n, "out of memory");
        goto done;
    }
    mem = H5Tcopy(H5T_C_S1);
    /* h5py 3 writes UTF-8 strings; HDF5 will not convert UTF-8 to ASCII. */
    H5T_cset_t cset = H5Tget_cset(type);
    if (mem < 0 || cset < 0 || H5Tset_cset(mem, cset) < 0) {
        snprintf(err, n, "attribute '%s' is unreadable", attr);
        goto done;
    }
    if (H5Tis_variable_str(type) > 0) {
        vl = calloc((size_t)np, sizeof *vl);
        if (!vl || H5Tset_size(mem, H5T_VARIABLE) < 0 || H5Aread(a, mem, vl) < 0) {
            snprintf(err, n, "cannot read attribute '%s'", attr);
            goto done;
        }
        for (hssize_t i = 0; i < np; i++) {
            const char *s = vl[i] ? vl[i] : "";
            res[i] = malloc(strlen(s) + 1);
            if (!res[i]) {
                snprintf(err, n, "out of memory");
                H5Dvlen_reclaim(mem, space, H5P_DEFAULT, vl);
                goto done;
            }
            strcpy(res[i], s);
        }
        H5Dvlen_reclaim(mem, space, H5P_DEFAULT, vl);
    } else {
        size_t sz = H5Tget_size(type);
        if (sz == 0 || sz > (1u << 28) / (size_t)np) {
            snprintf(err, n, "attribute '%s' is unreadable", attr);
            goto done;
        }
        fixed = calloc((size_t)np, sz);
        if (!fixed || H5Tset_size(mem, sz) < 0 ||
            H5Tset_strpad(mem, H5T_STR_NULLPAD) < 0 || H5Aread(a, mem, fixed) < 0) {
            snprintf(err, n, "cannot read attribute '%s'", attr);
            goto done;
        }
        for (hssize_t i = 0; i < np; i++) {
            res[i] = calloc(sz + 1, 1);
            if (!res[i]) {
                snprintf(err, n, "out of memory");
                goto done;
            }
            memcpy(res[i], fixed + (size_t)i * sz, sz);
        }
    }
    *out = res;
    *count = (int)np;
    res = NULL;
    rc = 0;
done:
    if (res) {
        for (hssize_t i = 0; i < np; i++)
            free(res[i]);
        free(res);
    }
    free(vl);
    free(fixed);
    if (mem >= 0)
        H5Tclose(mem);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (a >= 0)
        H5Aclose(a);
    return rc;
}

static void free_strings(char **s, int count)
{
    for (int i = 0; i < count; i++)
        free(s[i]);
    free(s);
}

int keras_h5_root_attr(keras_h5 *h, const char *name, char **out, char *err,
                       size_t n)
{
    *out = NULL;
    if (H5Aexists(h->file, name) <= 0)
        return 0;
    char **s;
    int count;
    if (read_strings(h->file, name, &s, &count, err, n) < 0)
        return -1;
    if (count != 1) {
        free_strings(s, count);
        snprintf(err, n, "attribute '%s' holds %d strings (expected 1)", name, count);
        return -1;
    }
    *out = s[0];
    free(s);
    return 1;
}

/* Reads a numeric dataset as float32.  1, 0 absent, -1 error. */
static int read_dataset(hid_t loc, const char *path, const char *what,
                        keras_array *out, char *err, size_t n)
{
    int rc = -1;
    hid_t d = -1, type = -1, space = -1;
    memset(out, 0, sizeof *out);
    if (H5Oexists_by_name(loc, path, H5P_DEFAULT) <= 0) {
        snprintf(err, n, "weight '%s' is missing", what);
        return 0;
    }
    d = H5Dopen2(loc, path, H5P_DEFAULT);
    if (d < 0) {
        snprintf(err, n, "weight '%s' is not a dataset", what);
        goto done;
    }
    type = H5Dget_type(d);
    space = H5Dget_space(d);
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
        snprintf(err, n, "weight '%s' is not numeric", what);
        goto done;
    }
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank < 0 || rank > 8) {
        snprintf(err, n, "weight '%s' has an unreadable shape", what);
        goto done;
    }
    hsize_t dims[8] = {0};
    if (rank > 0 && H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
        snprintf(err, n, "weight '%s' has an unreadable shape", what);
        goto done;
    }
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] > (1u << 28) || count * dims[i] > (1u << 28)) {
            snprintf(err, n, "weight '%s' is too large", what);
            goto done;
        }
        count *= (size_t)dims[i];
        out->dims[i] = (int32_t)dims[i];
    }
    out->ndims = rank;
    out->count = count;
    out->data = malloc(count ? count * sizeof(float) : sizeof(float));
    if (!out->data) {
        snprintf(err, n, "out of memory");
        goto done;
    }
    if (count && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                         out->data) < 0) {
        snprintf(err, n, "cannot read weight '%s' (truncated or corrupt file)", what);
        goto done;
    }
    rc = 1;
done:
    if (rc < 0)
        keras_array_free(out);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (d >= 0)
        H5Dclose(d);
    return rc;
}

/* "scope/kernel:0" -> does "kernel" appear in the '|'-list names? */
static int name_matches(const char *full, const char *names)
{
    const char *base = strrchr(full, '/');
    base = base ? base + 1 : full;
    size_t blen = strcspn(base, ":");
    const char *p = names;
    while (*p) {
        size_t len = strcspn(p, "|");
        if (len == blen && strncmp(p, base, len) == 0)
            return 1;
        p += len;
        if (*p == '|')
            p++;
    }
    return 0;
}

/* First of the '|'-list, for messages. */
static void first_name(const char *names, char *buf, size_t n)
{
    size_t len = strcspn(names, "|");
    if (len >= n)
        len = n - 1;
    memcpy(buf, names, len);
    buf[len] = '\0';
}

static int legacy_weight(keras_h5 *h, const char *layer, const char *names,
                         int index, keras_array *out, char *err, size_t n)
{
    char what[64];
    first_name(names, what, sizeof what);
    hid_t root = H5Oexists_by_name(h->file, "model_weights", H5P_DEFAULT) > 0
                     ? H5Gopen2(h->file, "model_weights", H5P_DEFAULT)
                     : -1;
    if (root < 0) {
        snprintf(err, n, "the file has no 'model_weights' group");
        return 0;
    }
    hid_t grp = H5Oexists_by_name(root, layer, H5P_DEFAULT) > 0
                    ? H5Gopen2(root, layer, H5P_DEFAULT)
                    : -1;
    H5Gclose(root);
    if (grp < 0) {
        snprintf(err, n, "weight group 'model_weights/%s' is missing", layer);
        return 0;
    }
    int rc = 0;
    char **wn = NULL;
    int count = 0;
    if (H5Aexists(grp, "weight_names") <= 0) {
        snprintf(err, n, "'model_weights/%s' has no 'weight_names' attribute", layer);
        goto done;
    }
    if (read_strings(grp, "weight_names", &wn, &count, err, n) < 0) {
        rc = -1;
        goto done;
    }
    int pick = -1;
    for (int i = 0; i < count && pick < 0; i++)
        if (name_matches(wn[i], names))
            pick = i;
    if (pick < 0 && index < count)
        pick = index;
    if (pick < 0) {
        snprintf(err, n, "weight '%s' is missing ('model_weights/%s' lists %d weights)",
                 what, layer, count);
        goto done;
    }
    rc = read_dataset(grp, wn[pick], what, out, err, n);
done:
    free_strings(wn, count);
    H5Gclose(grp);
    return rc;
}

static int v3_weight(keras_h5 *h, const char *layer, const char *names,
                     int index, keras_array *out, char *err, size_t n)
{
    static const char *const roots[] = {"layers", "_layer_checkpoint_dependencies"};
    char what[64], path[512];
    first_name(names, what, sizeof what);
    for (size_t r = 0; r < sizeof roots / sizeof roots[0]; r++) {
        snprintf(path, sizeof path, "%s/%s/vars", roots[r], layer);
        if (H5Lexists(h->file, roots[r], H5P_DEFAULT) <= 0 ||
            H5Oexists_by_name(h->file, path, H5P_DEFAULT) <= 0)
            continue;
        snprintf(path, sizeof path, "%s/%s/vars/%d", roots[r], layer, index);
        int rc = read_dataset(h->file, path, what, out, err, n);
        if (rc == 0)
            snprintf(err, n, "weight '%s' (%s) is missing", what, path);
        return rc;
    }
    snprintf(err, n, "weight group 'layers/%s/vars' is missing", layer);
    return 0;
}

int keras_h5_weight(keras_h5 *h, int layout, const char *layer,
                    const char *names, int index, keras_array *out,
                    char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    if (layout == KERAS_WEIGHTS_V3)
        return v3_weight(h, layer, names, index, out, err, n);
    return legacy_weight(h, layer, names, index, out, err, n);
}
