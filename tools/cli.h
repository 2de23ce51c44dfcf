/* Shared pieces of the tinyml CLI: exit codes, one-line errors, argument
 * helpers.  Each subcommand lives in its own cmd_*.c. */
#ifndef TML_CLI_H
#define TML_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "tinyml/tinyml.h"
#include "tools/lib/host_interp.h"

/* Exit codes (the contract). */
enum {
    CLI_OK = 0,
    CLI_RUN_FAILED = 1,   /* the model loaded but failed to run */
    CLI_BAD_INPUT = 2     /* bad usage, unreadable/malformed/unsupported input */
};

/* Prints "tinyml: <message>\n" on stderr: exactly one line, control
 * characters replaced.  Returns code, so callers can `return cli_error(...)`. */
int cli_error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "tinyml: <cmd>: <what> (usage: <usage>)" and CLI_BAD_INPUT. */
int cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Exit code for a tml_host_open failure. */
int cli_host_code(tml_host_status s);

/* Parses a decimal integer in [min, max]; 0 on success. */
int cli_parse_int(const char *s, long long min, long long max, long long *out);

/* Option value: accepts "--name VALUE" and "--name=VALUE".  Returns 1 when
 * argv[*i] is this option (and advances *i), 0 when it is not, -1 when the
 * value is missing. */
int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value);

int cli_is_help(const char *arg);
/* 1 when path ends with ext (case-sensitive, e.g. ".npy"). */
int cli_has_ext(const char *path, const char *ext);
/* File name without directory and without its last extension. */
void cli_stem(const char *path, char *out, size_t out_size);

/* Flushes stdout; a write error (closed pipe, full disk) is reported as
 * one line and turns a success into CLI_BAD_INPUT. */
int cli_finish(int code);

/* "'input_1' (tensor 0): int8 [1, 49, 10, 1], scale 0.5847029 zero point
 * 83" (or "not quantized", or the per-channel parameters). */
void cli_describe_tensor(const tml_tensor_info *info, char *out,
                         size_t out_size);

int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#define INSPECT_USAGE "tinyml inspect MODEL [--json]"
#define RUN_USAGE \
    "tinyml run MODEL (--input FILE | --random [--seed N]) [--output FILE]"
#define BENCH_USAGE \
    "tinyml bench MODEL [--json] [--iterations N] [--baselines FILE]"

#endif
