/* STUB: the tinyml CLI entry point (replaced by the CLI). */
#include <stdio.h>
int main(void) { fprintf(stderr, "tinyml: not built yet\n"); return 2; }
