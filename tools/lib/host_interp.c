/* Host interpreter set-up; see host_interp.h. */
#include "host_interp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/lib/file_io.h"

static tml_host_status fail(tml_host_status s, char *err, size_t err_size,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return s;
}

/* Fresh arena of `size` bytes, then create + allocate in it. */
static tml_status try_arena(tml_host_interp *h, size_t size)
{
    free(h->arena);
    h->arena = malloc(size);
    h->arena_size = size;
    if (!h->arena) {
        h->arena_size = 0;
        memset(&h->it, 0, sizeof h->it);
        snprintf(h->it.error, sizeof h->it.error,
                 "out of memory for an arena of %zu bytes", size);
        return TML_ERROR_ARENA;
    }
    tml_status s = tml_create(&h->it, h->model, h->model_size, h->arena, size);
    if (s == TML_OK)
        s = tml_allocate(&h->it);
    return s;
}

static tml_host_status setup(tml_host_interp *h, const char *name, char *err,
                             size_t err_size)
{
    size_t size = TML_HOST_ARENA_START;
    for (;;) {
        tml_status s = try_arena(h, size);
        if (s == TML_OK)
            break;
        if (s != TML_ERROR_ARENA)
            return fail(TML_HOST_INPUT, err, err_size, "%s: %s", name,
                        tml_error(&h->it));
        if (!h->arena || size >= TML_HOST_ARENA_MAX)
            return fail(TML_HOST_RUN, err, err_size, "%s: does not fit in "
                        "an arena of %zu bytes: %s", name, size,
                        tml_error(&h->it));
        /* Jump to the figure the runtime names when it knows one. */
        size_t next = tml_arena_needed(&h->it);
        if (next <= size)
            next = size * 2;
        size = next < TML_HOST_ARENA_MAX ? next : TML_HOST_ARENA_MAX;
    }
    /* Prove the figure: allocate again in exactly that many bytes. */
    size_t needed = tml_arena_needed(&h->it);
    if (needed == 0 || needed > size)
        return fail(TML_HOST_RUN, err, err_size, "%s: runtime reports %zu "
                    "arena bytes needed after allocating in %zu", name,
                    needed, size);
    if (needed < size && try_arena(h, needed) != TML_OK)
        return fail(TML_HOST_RUN, err, err_size, "%s: runtime reports %zu "
                    "arena bytes needed, but allocate fails in that many: %s",
                    name, needed, tml_error(&h->it));
    if (tml_arena_needed(&h->it) != needed)
        return fail(TML_HOST_RUN, err, err_size, "%s: arena bytes needed "
                    "changed from %zu to %zu with an exact arena", name,
                    needed, tml_arena_needed(&h->it));
    return TML_HOST_OK;
}

tml_host_status tml_host_open(tml_host_interp *h, const char *path, char *err,
                              size_t err_size)
{
    memset(h, 0, sizeof *h);
    h->model = tml_read_file(path, &h->model_size, err, err_size);
    if (!h->model)
        return TML_HOST_INPUT;
    tml_host_status s = setup(h, path, err, err_size);
    if (s != TML_HOST_OK)
        tml_host_close(h);
    return s;
}

tml_host_status tml_host_open_bytes(tml_host_interp *h, const void *bytes,
                                    size_t size, const char *name, char *err,
                                    size_t err_size)
{
    memset(h, 0, sizeof *h);
    h->model = aligned_alloc(16, (size + 16) & ~(size_t)15);
    if (!h->model)
        return fail(TML_HOST_RUN, err, err_size, "%s: out of memory for %zu "
                    "bytes", name, size);
    if (size)
        memcpy(h->model, bytes, size);
    h->model_size = size;
    tml_host_status s = setup(h, name, err, err_size);
    if (s != TML_HOST_OK)
        tml_host_close(h);
    return s;
}

size_t tml_host_arena_reusing_inputs(const tml_host_interp *h)
{
    /* The kept-inputs arena is an upper bound for the reusing one. */
    size_t size = h->arena_size;
    void *arena = malloc(size ? size : 1);
    tml_interpreter *it = malloc(sizeof *it);
    size_t needed = 0;
    if (arena && it && tml_create(it, h->model, h->model_size, arena, size) == TML_OK) {
        tml_set_reuse_inputs(it, 1);
        if (tml_allocate(it) == TML_OK)
            needed = tml_arena_needed(it);
    }
    free(it);
    free(arena);
    return needed;
}

void tml_host_close(tml_host_interp *h)
{
    free(h->arena);
    free(h->model);
    memset(h, 0, sizeof *h);
}

int tml_host_fill_random(tml_interpreter *it, uint32_t seed, char *err,
                         size_t err_size)
{
    uint32_t state = seed;
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        tml_tensor_info info;
        uint8_t *data = tml_input_data(it, i);
        if (tml_input_details(it, i, &info) != TML_OK || !data) {
            snprintf(err, err_size, "input %d: no data (not allocated)",
                     (int)i);
            return -1;
        }
        if (info.dtype != TML_INT8 && info.dtype != TML_FLOAT32) {
            char name[64];
            tml_host_sanitize(info.name, name, sizeof name);
            snprintf(err, err_size, "input %d '%s' is %s: random inputs are "
                     "generated for int8 and float32 only", (int)i, name,
                     tml_dtype_name(info.dtype));
            return -1;
        }
        size_t count = info.bytes / tml_dtype_size(info.dtype);
        for (size_t k = 0; k < count; k++) {
            state = state * 1664525u + 1013904223u;
            if (info.dtype == TML_INT8) {
                data[k] = (uint8_t)(int8_t)((int32_t)(state >> 24) - 128);
            } else {
                /* Exact in float: a 24-bit integer times 2^-23, minus 1. */
                float v = (float)(state >> 8) * (1.0f / 8388608.0f) - 1.0f;
                memcpy(data + 4 * k, &v, 4);
            }
        }
    }
    return 0;
}

void tml_host_format_dims(const int32_t *dims, int32_t ndims, char *out,
                          size_t out_size)
{
    size_t n = (size_t)snprintf(out, out_size, "[");
    for (int32_t i = 0; i < ndims && n < out_size; i++)
        n += (size_t)snprintf(out + n, out_size - n, "%s%d", i ? ", " : "",
                              (int)dims[i]);
    if (n < out_size)
        snprintf(out + n, out_size - n, "]");
}

void tml_host_sanitize(const char *s, char *out, size_t out_size)
{
    size_t n = 0;
    if (!out_size)
        return;
    for (; s && *s && n + 1 < out_size; s++) {
        unsigned char c = (unsigned char)*s;
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    out[n] = '\0';
}
