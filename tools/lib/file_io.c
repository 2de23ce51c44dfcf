/* Host file helpers; see file_io.h. */
#define _POSIX_C_SOURCE 200809L
#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *tml_read_file(const char *path, size_t *size, char *err, size_t err_size)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
     * refused below as not a regular file. */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "%s: not a regular file", path);
        close(fd);
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size;
    /* 16-byte alignment: TFLite buffers are 16-aligned in the file. */
    void *buf = n > SIZE_MAX - 32 ? NULL
                                  : aligned_alloc(16, (n + 16) & ~(size_t)15);
    if (!buf) {
        snprintf(err, err_size, "%s: out of memory for %zu bytes", path, n);
        fclose(f);
        return NULL;
    }
    if (n && fread(buf, 1, n, f) != n) {
        snprintf(err, err_size, "%s: read error (file shorter than %zu "
                 "bytes?)", path, n);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = n;
    return buf;
}

int tml_write_file_atomic(const char *path, const void *data, size_t size,
                          char *err, size_t err_size)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        snprintf(err, err_size, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, err_size, "%s: cannot create temporary file: %s", path,
                 strerror(errno));
        free(tmp);
        return -1;
    }
    /* mkstemp makes the file 0600; give it the usual 0666 & ~umask. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "wb");
    int ok = f && fwrite(data, 1, size, f) == size;
    int saved = errno;
    ok = (f && fclose(f) == 0) && ok;
    if (!f)
        close(fd);
    if (!ok || rename(tmp, path) != 0) {
        if (ok)
            saved = errno;
        snprintf(err, err_size, "%s: write failed: %s", path,
                 strerror(saved));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
