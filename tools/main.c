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
int cmd_eval(int argc, char **argv);      /* cmd_eval.c */

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
    "      [--calibration-method search|minmax|percentile|search-full]\n"
    "      Keras model (.h5, .keras, or a Keras SavedModel directory) to TFLite,\n"
    "      float or quantized; prints the size and the reduction against\n"
    "      the float conversion\n"
    "  tinyml eval MODEL --data X.npy --labels Y.npy [--compare OTHER.tflite]\n"
    "      top-1 accuracy on a labelled set (float32 data quantized for an\n"
    "      int8 input); --compare: the other model's and the agreement\n"
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

/* The subcommands, one file each; the usage lists follow this table. */
typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
} command;

static const command k_commands[] = {
    { "inspect", cmd_inspect },
    { "run", cmd_run },
    { "bench", cmd_bench },
    { "fit", cmd_fit },
    { "export", cmd_export },
    { "convert", cmd_convert },
    { "eval", cmd_eval },
};

#define NUM_COMMANDS (sizeof k_commands / sizeof k_commands[0])

static void command_list(char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NUM_COMMANDS && len < size; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "",
                                k_commands[i].name);
}

int main(int argc, char **argv)
{
    /* A closed pipe is reported as a write error, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    char list[256];
    command_list(list, sizeof list);
    if (argc < 2)
        return cli_usage_error("tinyml <command> [options]",
                               "no command given (commands: %s)", list);
    const char *cmd = argv[1];
    if (cli_is_help(cmd)) {
        fputs(k_help, stdout);
        return cli_finish(CLI_OK);
    }
    for (size_t i = 0; i < NUM_COMMANDS; i++) {
        if (strcmp(cmd, k_commands[i].name) == 0)
            return cli_finish(k_commands[i].run(argc - 1, argv + 1));
    }
    return cli_usage_error("tinyml <command> [options]",
                           "unknown command '%s' (commands: %s)", cmd, list);
}
