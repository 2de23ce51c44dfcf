/* The deployment subcommands: fit (cmd_fit.c) and export (cmd_export.c). */
#ifndef TML_CMD_DEPLOY_H
#define TML_CMD_DEPLOY_H

#define FIT_USAGE \
    "tinyml fit MODEL [--board NAME ...] [--boards FILE] [--code-size FILE] [--json]"
#define EXPORT_USAGE \
    "tinyml export MODEL (--c-array DIR | --project DIR --board NAME " \
    "[--test-input IN.bin] [--test-output OUT.bin] [--verify-on-device]) " \
    "[--boards FILE]"

int cmd_fit(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
