/*
 * Keras 3 .keras archives: a zip holding config.json (the model config),
 * metadata.json and model.weights.h5.  We read the two we need into
 * memory; the weights go to HDF5's core driver (keras_h5_open_memory).
 */
#include "convert/import/keras_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

/* Members larger than this are refused (a hostile size field must not
 * turn into a huge allocation). */
#define KERAS_ZIP_MAX ((zip_uint64_t)1 << 31)

static int read_member(zip_t *z, const char *path, const char *name,
                       char **out, size_t *size, char *err, size_t n)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat(z, name, 0, &st) < 0) {
        snprintf(err, n, "'%s' has no %s (not a Keras 3 .keras archive)", path, name);
        return -1;
    }
    if (!(st.valid & ZIP_STAT_SIZE) || st.size > KERAS_ZIP_MAX) {
        snprintf(err, n, "'%s': %s has an invalid size", path, name);
        return -1;
    }
    char *buf = malloc((size_t)st.size + 1);
    if (!buf) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    zip_file_t *f = zip_fopen(z, name, 0);
    zip_int64_t got = f ? zip_fread(f, buf, st.size) : -1;
    int closed = f ? zip_fclose(f) : -1;
    if (got < 0 || (zip_uint64_t)got != st.size || closed != 0) {
        free(buf);
        snprintf(err, n, "'%s': cannot read %s (truncated or corrupt archive)", path, name);
        return -1;
    }
    buf[st.size] = '\0';
    *out = buf;
    *size = (size_t)st.size;
    return 0;
}

int keras_zip_read(const char *path, char **config, void **weights,
                   size_t *weights_size, char **metadata, char *err, size_t n)
{
    int zerr = 0;
    *metadata = NULL;
    *config = NULL;
    *weights = NULL;
    *weights_size = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        snprintf(err, n, "cannot open '%s' as a zip archive: %s", path,
                 zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    size_t csize;
    char *cfg = NULL, *w = NULL;
    int rc = read_member(z, path, "config.json", &cfg, &csize, err, n);
    if (rc == 0)
        rc = read_member(z, path, "model.weights.h5", &w, weights_size, err, n);
    char *meta = NULL;
    size_t msize;
    zip_stat_t st;
    if (rc == 0 && zip_stat(z, "metadata.json", 0, &st) == 0)
        rc = read_member(z, path, "metadata.json", &meta, &msize, err, n);
    zip_discard(z);
    if (rc < 0) {
        free(cfg);
        free(w);
        free(meta);
        *weights_size = 0;
        return -1;
    }
    *metadata = meta;
    *config = cfg;
    *weights = w;
    return 0;
}
