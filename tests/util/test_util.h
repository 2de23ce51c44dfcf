/* Helpers shared by the tests. */
#ifndef TML_TEST_UTIL_H
#define TML_TEST_UTIL_H

#include <stddef.h>

/* $TINYML_SHARED or "../shared". */
const char *tml_test_shared_dir(void);
/* Reads $TINYML_SHARED/<rel>; NULL if missing (the caller skips). */
void *tml_test_read_shared(const char *rel, size_t *size);

#endif
