/*
 * TensorFlow tensor bundles (the checkpoint format of a SavedModel's
 * variables/): variables.index is a LevelDB-format table mapping each
 * checkpoint key to a BundleEntryProto (dtype, shape, shard, offset, size,
 * crc32c); the tensor bytes sit in variables.data-NNNNN-of-MMMMM.  The
 * empty key holds the BundleHeaderProto (shard count, endianness).
 *
 * Everything here reads memory images and trusts nothing in them: every
 * length, offset and count is checked, both checksums (each table block's
 * and each tensor's) are verified, and a failure is one line in err.
 * Compressed table blocks are refused (TensorFlow writes bundles without
 * compression).
 */
#ifndef TML_TF_BUNDLE_H
#define TML_TF_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#define TF_BUNDLE_MAX_DIMS 8

/* TensorFlow DataType values (types.proto) named in messages. */
enum { TF_DT_FLOAT = 1, TF_DT_DOUBLE = 2, TF_DT_INT32 = 3, TF_DT_STRING = 7,
       TF_DT_INT64 = 9, TF_DT_HALF = 19 };

typedef struct tf_bundle_entry {
    char *key;                        /* NUL-terminated */
    int32_t dtype;                    /* TF DataType */
    int32_t ndims;
    int64_t dims[TF_BUNDLE_MAX_DIMS];
    int32_t shard;
    uint64_t offset, size;            /* bytes in the shard */
    uint32_t crc32c;                  /* masked, as stored */
    int sliced;                       /* a partitioned variable */
} tf_bundle_entry;

typedef struct tf_bundle {
    tf_bundle_entry *entries;         /* in key order */
    int32_t count;
    int32_t num_shards;
} tf_bundle;

/* Parses a variables.index image.  0, or -1 with one line in err (b is
 * then empty). */
int tf_bundle_parse(const uint8_t *buf, size_t size, tf_bundle *b, char *err,
                    size_t n);
void tf_bundle_free(tf_bundle *b);

/* The entry of a key, or NULL. */
const tf_bundle_entry *tf_bundle_find(const tf_bundle *b, const char *key);

/* Checks a float32 entry against its shard's image (bounds, size =
 * elements * 4, crc32c) and converts its little-endian bytes into out
 * (room for the entry's element count).  0 or -1. */
int tf_bundle_read_float(const tf_bundle_entry *e, const uint8_t *shard,
                         size_t shard_size, float *out, char *err, size_t n);

/* Element count of an entry; -1 when it overflows 2^40. */
int64_t tf_bundle_elements(const tf_bundle_entry *e);

/* CRC-32C (Castagnoli), and LevelDB's / TensorFlow's masking of stored
 * checksums (exposed for the tests, which build bundles of their own). */
uint32_t tf_crc32c(uint32_t crc, const void *data, size_t size);
uint32_t tf_crc32c_mask(uint32_t crc);

#endif
