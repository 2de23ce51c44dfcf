/*
 * File reading for the tests of the -DTML_TRUSTED_MODEL runtime.  They link
 * that runtime alone (tests/CMakeLists.txt), not tml_test_util, whose host
 * library carries the verifying runtime.
 */
#ifndef TML_TRUSTED_UTIL_H
#define TML_TRUSTED_UTIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct blob {
    uint8_t *data;          /* 16-byte aligned, at least 16 bytes of slack after it */
    size_t size;
} blob;

/* $TINYML_SHARED, or ../shared. */
const char *trusted_shared_dir(void);

/* A whole file; a missing file fails the running test. */
blob trusted_read_path(const char *path);

/* $TINYML_SHARED/rel, whole. */
blob trusted_read_shared(const char *rel);

#endif
