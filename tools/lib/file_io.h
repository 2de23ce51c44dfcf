/* Host file helpers shared by the CLI and the tests. */
#ifndef TML_FILE_IO_H
#define TML_FILE_IO_H

#include <stddef.h>

/* Reads a whole file into 16-byte aligned memory (free with free()).
 * Returns NULL and writes one line to err on failure. */
void *tml_read_file(const char *path, size_t *size, char *err, size_t err_size);

/* Writes atomically: a temporary file in the same directory, then rename.
 * Returns 0 on success, -1 with one line in err. */
int tml_write_file_atomic(const char *path, const void *data, size_t size,
                          char *err, size_t err_size);

#endif
