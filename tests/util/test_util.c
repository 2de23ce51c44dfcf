#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

#include "tools/lib/file_io.h"

const char *tml_test_shared_dir(void)
{
    const char *d = getenv("TINYML_SHARED");
    return d && *d ? d : "../shared";
}

void *tml_test_read_shared(const char *rel, size_t *size)
{
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/%s", tml_test_shared_dir(), rel);
    return tml_read_file(path, size, err, sizeof err);
}
