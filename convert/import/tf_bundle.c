/*
 * Tensor bundle reader: the LevelDB table of variables.index and the
 * tensors it points at (see tf_bundle.h).
 *
 * Table layout (LevelDB's table_format, which TensorFlow's lib/io/table
 * keeps): data blocks, a metaindex block, an index block, then a 48-byte
 * footer = metaindex handle + index handle (each two varint64: offset,
 * size), zero padding to 40 bytes, magic 0xdb4775248b80fb57 (little
 * endian).  Every block is followed by a 5-byte trailer: compression type
 * (0 = none) and the masked crc32c of the block and the type byte.  A
 * block holds entries (varint32 shared key prefix, varint32 unshared
 * length, varint32 value length, the unshared key bytes, the value), then
 * uint32 restart offsets and their uint32 count.  The index block's values
 * are the data blocks' handles.
 */
#include "convert/import/tf_bundle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/import/tf_savedmodel.pb-c.h"

#define FOOTER_SIZE 48
#define TRAILER_SIZE 5
#define TABLE_MAGIC 0xdb4775248b80fb57ull
/* A bundle of this project's models has a few hundred keys; these only
 * stop hostile sizes from turning into huge allocations. */
#define MAX_ENTRIES (1 << 20)
#define MAX_KEY (1 << 16)

/* The libFuzzer build (fuzz/fuzz_bundle.c) cannot forge checksums; it
 * skips them to reach the parsing behind them. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define VERIFY_CHECKSUMS 0
#else
#define VERIFY_CHECKSUMS 1
#endif

static int bfail(char *err, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Keys come from the file: control bytes in them must not break the
 * message's single line. */
static int bfail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
    for (char *p = err; n && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return -1;
}

/* ------------------------------------------------------------------------
 * CRC-32C
 * ---------------------------------------------------------------------- */

uint32_t tf_crc32c(uint32_t crc, const void *data, size_t size)
{
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < size; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* LevelDB: a checksum stored next to data that may itself hold checksums
 * is rotated and offset. */
uint32_t tf_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

/* ------------------------------------------------------------------------
 * Byte readers (all bounded by `end`)
 * ---------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* A varint of at most max_bytes; 0 or -1 (truncated, too long). */
static int varint(const uint8_t **p, const uint8_t *end, int max_bytes, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < max_bytes; i++) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

typedef struct handle {
    uint64_t offset, size;
} handle;

static int read_handle(const uint8_t **p, const uint8_t *end, handle *h)
{
    if (varint(p, end, 10, &h->offset) < 0 || varint(p, end, 10, &h->size) < 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------------
 * Blocks
 * ---------------------------------------------------------------------- */

typedef struct reader {
    const uint8_t *buf;
    size_t size;          /* up to the footer */
    char *err;
    size_t n;
    tf_bundle *b;
    int32_t cap;
    char *last;           /* last key added (strictly increasing) */
    size_t last_len;
    int have_last;
    int have_header;
} reader;

/* Checks a handle and the block's trailer; *data / *len: its contents. */
static int block_at(reader *r, const handle *h, const char *what, const uint8_t **data,
                    size_t *len)
{
    if (h->offset > r->size || h->size > r->size - h->offset ||
        TRAILER_SIZE > r->size - h->offset - h->size)
        return bfail(r->err, r->n, "%s block [%llu, +%llu) lies outside the table", what,
                     (unsigned long long)h->offset, (unsigned long long)h->size);
    const uint8_t *p = r->buf + h->offset;
    size_t sz = (size_t)h->size;
    uint32_t stored = le32(p + sz + 1);
    uint32_t actual = tf_crc32c(0, p, sz + 1);
    if (VERIFY_CHECKSUMS && tf_crc32c_mask(actual) != stored)
        return bfail(r->err, r->n, "%s block at offset %llu: checksum mismatch (corrupt table)",
                     what, (unsigned long long)h->offset);
    if (p[sz] != 0)
        return bfail(r->err, r->n, "%s block at offset %llu is compressed (type %d); only "
                                   "uncompressed tables are supported",
                     what, (unsigned long long)h->offset, (int)p[sz]);
    *data = p;
    *len = sz;
    return 0;
}

typedef int (*entry_fn)(reader *r, const char *key, size_t key_len, const uint8_t *value,
                        size_t value_len);

/* Walks a block's entries, rebuilding the prefix-compressed keys. */
static int walk_block(reader *r, const uint8_t *data, size_t len, const char *what,
                      entry_fn fn)
{
    if (len < 4)
        return bfail(r->err, r->n, "%s block is too short (%zu bytes)", what, len);
    uint32_t restarts = le32(data + len - 4);
    if (restarts == 0 || restarts > (len - 4) / 4)
        return bfail(r->err, r->n, "%s block has an invalid restart count %u", what,
                     (unsigned)restarts);
    const uint8_t *p = data, *end = data + len - 4 - 4 * (size_t)restarts;
    char *key = NULL;
    size_t key_len = 0;
    int rc = 0;
    while (p < end && rc == 0) {
        uint64_t shared, unshared, vlen;
        if (varint(&p, end, 5, &shared) < 0 || varint(&p, end, 5, &unshared) < 0 ||
            varint(&p, end, 5, &vlen) < 0) {
            rc = bfail(r->err, r->n, "%s block: truncated entry header", what);
            break;
        }
        if (shared > key_len || unshared > (uint64_t)(end - p) ||
            vlen > (uint64_t)(end - p) - unshared || shared + unshared > MAX_KEY) {
            rc = bfail(r->err, r->n, "%s block: entry lengths out of range", what);
            break;
        }
        char *k = realloc(key, (size_t)(shared + unshared) + 1);
        if (!k) {
            rc = bfail(r->err, r->n, "out of memory");
            break;
        }
        key = k;
        memcpy(key + shared, p, (size_t)unshared);
        key_len = (size_t)(shared + unshared);
        key[key_len] = '\0';
        p += unshared;
        rc = fn(r, key, key_len, p, (size_t)vlen);
        p += vlen;
    }
    free(key);
    return rc;
}

/* ------------------------------------------------------------------------
 * Entries
 * ---------------------------------------------------------------------- */

static int shape_of(reader *r, const char *key, const Tmltf__TensorShapeProto *s,
                    tf_bundle_entry *e)
{
    if (!s)
        return 0;   /* a scalar */
    if (s->unknown_rank || s->n_dim > TF_BUNDLE_MAX_DIMS)
        return bfail(r->err, r->n, "tensor '%s': unsupported shape (rank %zu%s)", key,
                     s->n_dim, s->unknown_rank ? ", unknown" : "");
    e->ndims = (int32_t)s->n_dim;
    for (size_t i = 0; i < s->n_dim; i++) {
        int64_t d = s->dim[i]->size;
        if (d < 0 || d > ((int64_t)1 << 40))
            return bfail(r->err, r->n, "tensor '%s': invalid dimension %lld", key,
                         (long long)d);
        e->dims[i] = d;
    }
    return 0;
}

static int add_header(reader *r, const uint8_t *value, size_t len)
{
    Tmltf__BundleHeaderProto *h = tmltf__bundle_header_proto__unpack(NULL, len, value);
    if (!h)
        return bfail(r->err, r->n, "the bundle header is not a valid BundleHeaderProto");
    int rc = 0;
    if (h->num_shards < 1 || h->num_shards > 100000)
        rc = bfail(r->err, r->n, "the bundle header has %d shards", (int)h->num_shards);
    else if (h->endianness != 0)
        rc = bfail(r->err, r->n, "big-endian bundles are not supported");
    r->b->num_shards = h->num_shards;
    r->have_header = 1;
    tmltf__bundle_header_proto__free_unpacked(h, NULL);
    return rc;
}

static int add_entry(reader *r, const char *key, size_t key_len, const uint8_t *value,
                     size_t vlen)
{
    /* Checkpoint keys are object paths; a NUL byte would also break the
     * NUL-terminated lookups. */
    if (memchr(key, 0, key_len))
        return bfail(r->err, r->n, "a table key contains a NUL byte");
    if (r->have_last) {
        size_t m = key_len < r->last_len ? key_len : r->last_len;
        int c = memcmp(key, r->last, m);
        if (c < 0 || (c == 0 && key_len <= r->last_len))
            return bfail(r->err, r->n, "table keys are out of order at '%s'", key);
    }
    char *copy = malloc(key_len + 1);
    if (!copy)
        return bfail(r->err, r->n, "out of memory");
    memcpy(copy, key, key_len + 1);
    free(r->last);
    r->last = malloc(key_len + 1);
    if (!r->last) {
        free(copy);
        return bfail(r->err, r->n, "out of memory");
    }
    memcpy(r->last, key, key_len + 1);
    r->last_len = key_len;
    r->have_last = 1;
    if (key_len == 0) {
        free(copy);
        return add_header(r, value, vlen);
    }
    tf_bundle *b = r->b;
    if (b->count >= MAX_ENTRIES) {
        free(copy);
        return bfail(r->err, r->n, "more than %d tensors", MAX_ENTRIES);
    }
    if (b->count == r->cap) {
        int32_t cap = r->cap ? 2 * r->cap : 64;
        tf_bundle_entry *ne = realloc(b->entries, (size_t)cap * sizeof *ne);
        if (!ne) {
            free(copy);
            return bfail(r->err, r->n, "out of memory");
        }
        b->entries = ne;
        r->cap = cap;
    }
    tf_bundle_entry *e = &b->entries[b->count];
    memset(e, 0, sizeof *e);
    e->key = copy;
    b->count++;
    Tmltf__BundleEntryProto *p = tmltf__bundle_entry_proto__unpack(NULL, vlen, value);
    if (!p)
        return bfail(r->err, r->n, "tensor '%s': its entry is not a valid BundleEntryProto",
                     copy);
    int rc = shape_of(r, copy, p->shape, e);
    if (rc == 0 && (p->offset < 0 || p->size < 0 || p->shard_id < 0))
        rc = bfail(r->err, r->n, "tensor '%s': negative offset, size or shard", copy);
    e->dtype = p->dtype;
    e->shard = p->shard_id;
    e->offset = (uint64_t)p->offset;
    e->size = (uint64_t)p->size;
    e->crc32c = p->crc32c;
    e->sliced = p->n_slices > 0;
    tmltf__bundle_entry_proto__free_unpacked(p, NULL);
    return rc;
}

static int index_entry(reader *r, const char *key, size_t key_len, const uint8_t *value,
                       size_t vlen)
{
    (void)key;
    (void)key_len;
    handle h;
    const uint8_t *p = value;
    if (read_handle(&p, value + vlen, &h) < 0)
        return bfail(r->err, r->n, "index block: malformed block handle");
    const uint8_t *data;
    size_t len;
    if (block_at(r, &h, "data", &data, &len) < 0)
        return -1;
    return walk_block(r, data, len, "data", add_entry);
}

/* ------------------------------------------------------------------------
 * Public
 * ---------------------------------------------------------------------- */

void tf_bundle_free(tf_bundle *b)
{
    for (int32_t i = 0; i < b->count; i++)
        free(b->entries[i].key);
    free(b->entries);
    memset(b, 0, sizeof *b);
}

int tf_bundle_parse(const uint8_t *buf, size_t size, tf_bundle *b, char *err, size_t n)
{
    memset(b, 0, sizeof *b);
    if (size < FOOTER_SIZE)
        return bfail(err, n, "the table is %zu bytes, shorter than its %d-byte footer", size,
                     FOOTER_SIZE);
    const uint8_t *foot = buf + size - FOOTER_SIZE;
    uint64_t magic = (uint64_t)le32(foot + 40) | (uint64_t)le32(foot + 44) << 32;
    if (magic != TABLE_MAGIC)
        return bfail(err, n, "not a table (bad magic number in the footer)");
    handle meta, index;
    const uint8_t *p = foot;
    if (read_handle(&p, foot + 40, &meta) < 0 || read_handle(&p, foot + 40, &index) < 0)
        return bfail(err, n, "the table footer's block handles are malformed");
    reader r;
    memset(&r, 0, sizeof r);
    r.buf = buf;
    r.size = size - FOOTER_SIZE;
    r.err = err;
    r.n = n;
    r.b = b;
    const uint8_t *data;
    size_t len;
    int rc = block_at(&r, &index, "index", &data, &len);
    if (rc == 0)
        rc = walk_block(&r, data, len, "index", index_entry);
    if (rc == 0 && !r.have_header)
        rc = bfail(err, n, "the bundle has no header entry");
    for (int32_t i = 0; rc == 0 && i < b->count; i++)
        if (b->entries[i].shard >= b->num_shards)
            rc = bfail(err, n, "tensor '%s' is in shard %d of %d", b->entries[i].key,
                       (int)b->entries[i].shard, (int)b->num_shards);
    free(r.last);
    if (rc != 0)
        tf_bundle_free(b);
    return rc;
}

const tf_bundle_entry *tf_bundle_find(const tf_bundle *b, const char *key)
{
    int32_t lo = 0, hi = b->count - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int c = strcmp(b->entries[mid].key, key);
        if (c == 0)
            return &b->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

int64_t tf_bundle_elements(const tf_bundle_entry *e)
{
    int64_t count = 1;
    for (int32_t i = 0; i < e->ndims; i++) {
        if (e->dims[i] != 0 && count > ((int64_t)1 << 40) / e->dims[i])
            return -1;
        count *= e->dims[i];
    }
    return count;
}

static const char *dtype_name(int32_t dt)
{
    switch (dt) {
    case TF_DT_FLOAT: return "float32";
    case TF_DT_DOUBLE: return "float64";
    case TF_DT_INT32: return "int32";
    case TF_DT_STRING: return "string";
    case TF_DT_INT64: return "int64";
    case TF_DT_HALF: return "float16";
    default: return "other";
    }
}

int tf_bundle_read_float(const tf_bundle_entry *e, const uint8_t *shard, size_t shard_size,
                         float *out, char *err, size_t n)
{
    if (e->sliced)
        return bfail(err, n, "tensor '%s' is partitioned (not supported)", e->key);
    if (e->dtype != TF_DT_FLOAT)
        return bfail(err, n, "tensor '%s' has dtype %s (%d), only float32 is supported",
                     e->key, dtype_name(e->dtype), (int)e->dtype);
    int64_t count = tf_bundle_elements(e);
    if (count < 0 || (uint64_t)count * 4u != e->size)
        return bfail(err, n, "tensor '%s': %llu bytes for its shape", e->key,
                     (unsigned long long)e->size);
    if (e->offset > shard_size || e->size > shard_size - e->offset)
        return bfail(err, n, "tensor '%s': bytes [%llu, +%llu) lie outside its %zu-byte "
                             "data file", e->key, (unsigned long long)e->offset,
                     (unsigned long long)e->size, shard_size);
    const uint8_t *p = shard + e->offset;
    uint32_t crc = tf_crc32c(0, p, (size_t)e->size);
    if (VERIFY_CHECKSUMS && tf_crc32c_mask(crc) != e->crc32c)
        return bfail(err, n, "tensor '%s': checksum mismatch (corrupt data file)", e->key);
    for (int64_t i = 0; i < count; i++) {
        uint32_t bits = le32(p + 4 * i);
        memcpy(&out[i], &bits, sizeof bits);
    }
    return 0;
}
