/*
 * tinyml: the command-line tool.  main() only dispatches; each subcommand
 * is one file (cmd_inspect.c, cmd_run.c, cmd_bench.c).
 *
 * Exit codes: 0 success, 1 the model loaded but failed to run, 2 bad usage
 * or bad input (unreadable, malformed or unsupported model or data).
 * Every error is one line on stderr starting with "tinyml: ".
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_deploy.h"

int cmd_convert(int argc, char **argv);   /* cmd_convert.c */

static const char k_help[] =
    "usage: tinyml <command> [options]\n"
    "\n"
    "commands:\n"
    "  " INSPECT_USAGE "\n"
    "      inputs, outputs (shape, dtype, quantization), op counts, tensor\n"
    "      count, weight bytes, arena bytes needed, file size\n"
    "  " RUN_USAGE "\n"
    "      run one inference; FILE is .npy (one input) or raw bytes (all\n"
    "      inputs concatenated in model dtype); --output FILE.npy writes the\n"
    "      single output, any other name all outputs raw, concatenated\n"
    "  tinyml convert INPUT -o OUT.tflite [--quantize none|float16|dynamic|int8]\n"
    "      [--calibration DATA] [--samples N] [--io float32|int8]\n"
    "      Keras model (.h5, .keras) to TFLite, float or quantized; prints\n"
    "      the size and the reduction against the float conversion\n"
    "  " BENCH_USAGE "\n"
    "      median microseconds per invoke, arena bytes, and TFLite Micro's\n"
    "      figures from baselines.json beside ours\n"
    "  " FIT_USAGE "\n"
    "      flash and RAM needed on each board vs its capacity; exit 1 when a\n"
    "      named board does not fit\n"
    "  " EXPORT_USAGE "\n"
    "      the model as a C array, or a make + arm-none-eabi-gcc project\n"
    "      for a board that runs one inference and checks the output\n"
    "\n"
    "exit codes: 0 success; 1 the model loaded but failed to run (invoke\n"
    "  error, or it needs more than 1 GB of arena); 2 bad usage or bad input\n"
    "  (unreadable, malformed or unsupported model, bad data file)\n"
    "'tinyml <command> --help' describes one command.\n";

int main(int argc, char **argv)
{
    /* A closed pipe is reported as a write error, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return cli_usage_error("tinyml <command> [options]",
                               "no command given (commands: inspect, run, "
                               "bench, fit, export, convert)");
    const char *cmd = argv[1];
    if (cli_is_help(cmd)) {
        fputs(k_help, stdout);
        return cli_finish(CLI_OK);
    }
    int code;
    if (strcmp(cmd, "inspect") == 0)
        code = cmd_inspect(argc - 1, argv + 1);
    else if (strcmp(cmd, "run") == 0)
        code = cmd_run(argc - 1, argv + 1);
    else if (strcmp(cmd, "bench") == 0)
        code = cmd_bench(argc - 1, argv + 1);
    else if (strcmp(cmd, "convert") == 0)
        code = cmd_convert(argc - 1, argv + 1);
    else if (strcmp(cmd, "fit") == 0)
        code = cmd_fit(argc - 1, argv + 1);
    else if (strcmp(cmd, "export") == 0)
        code = cmd_export(argc - 1, argv + 1);
    else
        return cli_usage_error("tinyml <command> [options]",
                               "unknown command '%s' (commands: inspect, run, "
                               "bench, fit, export, convert)", cmd);
    return cli_finish(code);
}
