/*
 * tinyml export MODEL --c-array DIR
 * tinyml export MODEL --project DIR --board NAME [--test-input IN.bin]
 *                     [--test-output OUT.bin] [--verify-on-device]
 *                     [--boards FILE]
 *
 * --c-array writes DIR/model_data.c and .h: the model as a const, 16-byte
 * aligned array, its length and the arena bytes it needs (macros).
 * --project writes a folder that builds with make + arm-none-eabi-gcc for
 * the board's core: the runtime with only the model's kernels, the model,
 * deploy/'s main.c (one inference on the test input, or the seed-1
 * generator; byte-for-byte comparison with the expected output: PASS or
 * FAIL), start-up, linker script, Makefile (`make run` under qemu for an
 * emulated board) and README.  The test files are raw bytes: all inputs
 * (or outputs) concatenated, exactly the model's sizes.
 * Verify once (runtime/model.h): the model is verified in full here (it
 * is opened with the verifying runtime, and the project writer runs
 * tml_verify again), so the project's device build defaults to
 * -DTML_TRUSTED_MODEL (no verifier on the device); --verify-on-device
 * keeps it.  --c-array is unchanged: its header mentions the define.
 * Exit: 0 written, 2 bad usage or input (unknown board, non-Arm core, wrong
 * test data size, unwritable directory).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_deploy.h"
#include "tools/lib/boards.h"
#include "tools/lib/file_io.h"
#include "tools/lib/project_export.h"

static const char k_help[] =
    "usage: " EXPORT_USAGE "\n"
    "  --c-array DIR: DIR/model_data.c and model_data.h (the model as a\n"
    "  const 16-byte aligned array, TML_MODEL_DATA_LEN and\n"
    "  TML_MODEL_ARENA_BYTES).\n"
    "  --project DIR --board NAME: a make + arm-none-eabi-gcc project for\n"
    "  the board's Cortex-M core that runs one inference on --test-input\n"
    "  (raw bytes of all inputs; default: the seed-1 generator of `tinyml\n"
    "  run --random`) and, with --test-output (raw bytes of all outputs),\n"
    "  compares every byte and prints PASS or FAIL.  For boards qemu\n"
    "  emulates, `make run` runs it and exits 0 only on PASS.  The model\n"
    "  is verified here, so the device build trusts it\n"
    "  (-DTML_TRUSTED_MODEL: no verifier on the device, less flash);\n"
    "  --verify-on-device keeps the verifier in the device build.\n";

typedef struct options {
    const char *model, *c_array, *project, *board, *test_input,
        *test_output, *boards, *code_size;
    int verify_on_device;
} options;

static int parse(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    static const char *const names[] = {"--c-array", "--project", "--board",
                                        "--test-input", "--test-output",
                                        "--boards", "--code-size"};
    for (int i = 1; i < argc; i++) {
        const char **slots[] = {&o->c_array, &o->project, &o->board,
                                &o->test_input, &o->test_output, &o->boards,
                                &o->code_size};
        int matched = 0;
        for (int k = 0; k < 7 && !matched; k++) {
            const char *v;
            int r = cli_option_value(argc, argv, &i, names[k], &v);
            if (r < 0)
                return cli_usage_error(EXPORT_USAGE, "export: %s needs a "
                                       "value", names[k]);
            if (r > 0) {
                *slots[k] = v;
                matched = 1;
            }
        }
        if (matched)
            continue;
        if (strcmp(argv[i], "--verify-on-device") == 0) {
            o->verify_on_device = 1;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(EXPORT_USAGE, "export: unknown option "
                                   "'%s'", argv[i]);
        if (o->model)
            return cli_usage_error(EXPORT_USAGE, "export: more than one "
                                   "model");
        o->model = argv[i];
    }
    if (!o->model)
        return cli_usage_error(EXPORT_USAGE, "export: no model given");
    if (!o->c_array == !o->project)
        return cli_usage_error(EXPORT_USAGE, "export: give exactly one of "
                               "--c-array DIR and --project DIR");
    if (o->project && !o->board)
        return cli_usage_error(EXPORT_USAGE, "export: --project needs "
                               "--board NAME");
    if (o->c_array && (o->board || o->test_input || o->test_output ||
                       o->verify_on_device))
        return cli_usage_error(EXPORT_USAGE, "export: --board, --test-input, "
                               "--test-output and --verify-on-device go "
                               "with --project");
    return CLI_OK;
}

/* A C identifier-safe stem: "kws_ref_model". */
static void model_name(const char *path, char *out, size_t size)
{
    cli_stem(path, out, size);
    for (char *p = out; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            *p = '_';
    }
    if (!out[0])
        snprintf(out, size, "model");
}

static size_t io_bytes(const tml_interpreter *it, int outputs)
{
    size_t total = 0;
    int32_t n = outputs ? tml_output_count(it) : tml_input_count(it);
    for (int32_t i = 0; i < n; i++) {
        tml_tensor_info info;
        tml_status s = outputs ? tml_output_details(it, i, &info)
                               : tml_input_details(it, i, &info);
        if (s == TML_OK)
            total += info.bytes;
    }
    return total;
}

/* Reads a test file that must hold exactly `expected` bytes. */
static uint8_t *read_test(const char *path, size_t expected, const char *what,
                          size_t *size, int *code)
{
    char err[512];
    uint8_t *data = tml_read_file(path, size, err, sizeof err);
    if (!data) {
        *code = cli_error(CLI_BAD_INPUT, "export: %s", err);
        return NULL;
    }
    if (*size != expected) {
        *code = cli_error(CLI_BAD_INPUT, "export: %s: %zu bytes, but the "
                          "model's %s take %zu bytes", path, *size, what,
                          expected);
        free(data);
        return NULL;
    }
    return data;
}

static int export_project(const options *o, tml_host_interp *h,
                          const tml_export_model *m)
{
    char src[4096], err[512], path[4200];
    if (tml_source_dir(src, sizeof src, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "export: %s", err);
    if (!o->boards)
        snprintf(path, sizeof path, "%s/boards/boards.json", src);
    tml_boards boards;
    if (tml_boards_load(o->boards ? o->boards : path, &boards, err,
                        sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "export: %s", err);
    int code = CLI_OK;
    uint8_t *in = NULL, *out = NULL;
    int32_t *ops = NULL;
    size_t in_size = 0, out_size = 0;
    const tml_board *b = tml_boards_find(&boards, o->board);
    if (!b) {
        code = cli_error(CLI_BAD_INPUT, "export: unknown board '%s' (see %s)",
                         o->board, o->boards ? o->boards : path);
        goto done;
    }
    if (!tml_export_cpu_flags(b)) {
        code = cli_error(CLI_BAD_INPUT, "export: board '%s' has core %s: "
                         "projects build with arm-none-eabi-gcc for "
                         "Cortex-M cores only (use --c-array)", b->name,
                         b->core);
        goto done;
    }
    if (o->test_input &&
        !(in = read_test(o->test_input, io_bytes(&h->it, 0), "inputs",
                         &in_size, &code)))
        goto done;
    if (o->test_output &&
        !(out = read_test(o->test_output, io_bytes(&h->it, 1), "outputs",
                          &out_size, &code)))
        goto done;
    int32_t nops = tml_op_count(&h->it);
    ops = calloc(nops > 0 ? (size_t)nops : 1, sizeof *ops);
    if (!ops) {
        code = cli_error(CLI_BAD_INPUT, "export: out of memory");
        goto done;
    }
    for (int32_t i = 0; i < nops; i++) {
        tml_op_info info;
        if (tml_op_details(&h->it, i, &info) == TML_OK)
            ops[i] = info.builtin;
    }
    /* Stack to reserve: the measured high-water mark plus 1 KB, or 4 KB
     * when the core has no measurement. */
    long long stack = 4096;
    tml_code_size cs;
    char code_path[4200];
    snprintf(code_path, sizeof code_path, "%s/boards/code_size.json", src);
    const char *names[1] = {"RESHAPE"};
    if (tml_code_size_for(o->code_size ? o->code_size : code_path, b->core,
                          names, 0, NULL, &cs, err, sizeof err) == 0 &&
        cs.stack_bytes > 0)
        stack = cs.stack_bytes + 1024;
    tml_export_project p = {
        .dir = o->project, .source_dir = src, .board = b, .model = m,
        .builtins = ops, .nbuiltins = nops, .test_input = in,
        .test_input_size = in_size, .test_output = out,
        .test_output_size = out_size, .stack_bytes = stack,
        .verify_on_device = o->verify_on_device};
    if (tml_export_project_write(&p, err, sizeof err) != 0) {
        code = cli_error(CLI_BAD_INPUT, "export: %s", err);
        goto done;
    }
    printf("wrote %s: %s for %s (%s, model verified %s); build with: "
           "make -C %s%s\n", o->project, m->name, b->name, b->core,
           o->verify_on_device ? "on the device too" : "here, trusted on "
           "the device", o->project, b->qemu_machine[0] ? " run" : "");
done:
    free(ops);
    free(in);
    free(out);
    tml_boards_free(&boards);
    return code;
}

int cmd_export(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(k_help, stdout);
            return CLI_OK;
        }
    }
    options o;
    int code = parse(argc, argv, &o);
    if (code != CLI_OK)
        return code;
    char err[512], name[128];
    tml_host_interp h;
    tml_host_status hs = tml_host_open(&h, o.model, err, sizeof err);
    if (hs != TML_HOST_OK)
        return cli_error(cli_host_code(hs), "%s", err);
    model_name(o.model, name, sizeof name);
    tml_export_model m = {h.model, h.model_size, name,
                          tml_arena_needed(&h.it)};
    if (o.c_array) {
        if (tml_export_c_array(o.c_array, &m, err, sizeof err) != 0)
            code = cli_error(CLI_BAD_INPUT, "export: %s", err);
        else
            printf("wrote %s/model_data.c and model_data.h (%zu bytes, arena "
                   "%zu bytes)\n", o.c_array, m.size, m.arena_bytes);
    } else {
        code = export_project(&o, &h, &m);
    }
    tml_host_close(&h);
    return code;
}
