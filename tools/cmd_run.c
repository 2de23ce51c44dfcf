/* tinyml run: written next. */
#include "cli.h"
int cmd_run(int argc, char **argv) { (void)argc; (void)argv; return cli_error(CLI_BAD_INPUT, "run: not implemented yet"); }
