/* File reading for the trusted-runtime tests; see trusted_util.h. */
#include "trusted_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

const char *trusted_shared_dir(void)
{
    const char *s = getenv("TINYML_SHARED");
    return s && *s ? s : "../shared";
}

blob trusted_read_path(const char *path)
{
    blob b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s (set TINYML_SHARED)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    b.size = (size_t)n;
    b.data = aligned_alloc(16, (b.size + 32) & ~(size_t)15);
    assert_non_null(b.data);
    assert_int_equal(fread(b.data, 1, b.size, f), b.size);
    fclose(f);
    return b;
}

blob trusted_read_shared(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", trusted_shared_dir(), rel);
    return trusted_read_path(path);
}
