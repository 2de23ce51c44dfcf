/*
 * libFuzzer target: the TensorFlow tensor-bundle reader
 * (convert/import/tf_bundle.c) -- the LevelDB table of a SavedModel's
 * variables.index and the tensors its entries point at.
 *
 * The input is the index image; it also serves as the data shard, so
 * entries whose offsets land inside it exercise the tensor read path
 * (bounds, sizes, checksums).  Any input must be rejected with one
 * non-empty line, or parse into entries that are in strictly increasing
 * key order, have shards below the header's count, and survive a read.
 * Seeds: scripts/fuzz_smoke.sh (FUZZ_TARGET=fuzz_bundle) copies the KWS
 * SavedModel's variables.index.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convert/import/tf_bundle.h"

static void check_message(const char *msg)
{
    if (!msg[0] || strchr(msg, '\n') || strchr(msg, '\r'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tf_bundle b;
    char err[512] = "";
    if (tf_bundle_parse(data, size, &b, err, sizeof err) != 0) {
        check_message(err);
        if (b.count != 0 || b.entries)
            abort();
        return 0;
    }
    for (int32_t i = 0; i < b.count; i++) {
        const tf_bundle_entry *e = &b.entries[i];
        if (i > 0 && strcmp(b.entries[i - 1].key, e->key) >= 0)
            abort();
        if (e->shard < 0 || e->shard >= b.num_shards || e->ndims < 0 ||
            e->ndims > TF_BUNDLE_MAX_DIMS)
            abort();
        if (tf_bundle_find(&b, e->key) != e)
            abort();
        int64_t count = tf_bundle_elements(e);
        if (count < 0 || count > (1 << 20))
            continue;
        float *out = malloc(count ? (size_t)count * sizeof *out : sizeof *out);
        if (!out)
            continue;
        err[0] = '\0';
        if (tf_bundle_read_float(e, data, size, out, err, sizeof err) != 0)
            check_message(err);
        free(out);
    }
    tf_bundle_free(&b);
    return 0;
}
