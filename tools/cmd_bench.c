/* tinyml bench: written next. */
#include "cli.h"
int cmd_bench(int argc, char **argv) { (void)argc; (void)argv; return cli_error(CLI_BAD_INPUT, "bench: not implemented yet"); }
