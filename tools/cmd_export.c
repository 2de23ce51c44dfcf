/* tinyml export: placeholder until the exporter lands (same commit series). */
#include "cli.h"
#include "cmd_deploy.h"

int cmd_export(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_usage_error(EXPORT_USAGE, "export: not implemented yet");
}
