/*
 * tinyml convert INPUT -o OUT.tflite [--quantize none|float16|dynamic|int8]
 *                [--calibration DATA] [--samples N] [--io float32|int8]
 *                [--calibration-method search|minmax|percentile|search-full]
 *
 * The converter's whole flow: import (convert/import) -> graph passes
 * (convert/passes) -> quantization (convert/quantize) -> TFLite export
 * (convert/export/ir_export.h), then an atomic write of OUT (temporary
 * file + rename; the input is only ever read).
 *
 * Prints, as the seed's TensorFlow flow does:
 *   Size of TensorFlow Lite Model: 84.03 KB
 * (bytes / 1024, two decimals) and for a quantized model the size of the
 * float conversion of the same input (made in memory) and
 *   There is 3.9x reduction in size
 * Exit codes: 0 done; 2 bad usage or bad input (unreadable or unsupported
 * model, bad calibration data); 1 the conversion failed otherwise (the
 * calibration run failed, the output could not be written).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "convert/export/ir_export.h"
#include "convert/import/import.h"
#include "convert/passes/passes.h"
#include "convert/quantize/dataset.h"
#include "convert/quantize/quantize.h"
#include "tools/lib/file_io.h"

#define CONVERT_USAGE                                                     \
    "tinyml convert INPUT -o OUT.tflite [--quantize none|float16|dynamic|" \
    "int8] [--calibration DATA] [--samples N] [--io float32|int8] "      \
    "[--calibration-method search|minmax|percentile|search-full]"

int cmd_convert(int argc, char **argv);

static const char k_help[] =
    "usage: " CONVERT_USAGE "\n"
    "  INPUT            a Keras model: HDF5 (model.save('m.h5')) or .keras\n"
    "  -o, --output OUT the TFLite file to write (atomically: a temporary\n"
    "                   file, then rename; INPUT is never written)\n"
    "  --quantize MODE  none (default): float32;\n"
    "                   float16: float16 weights with DEQUANTIZE;\n"
    "                   dynamic: int8 weights, float activations (hybrid);\n"
    "                   int8: full integer, calibrated on --calibration\n"
    "  --calibration DATA  representative inputs for int8: .npy (N x input\n"
    "                   shape, float32), .npz (one array per input) or a\n"
    "                   directory of .npy files\n"
    "  --samples N      calibrate on the first N samples (default: all)\n"
    "  --io float32|int8   int8 only: the model's input and output dtype\n"
    "                   (default float32: QUANTIZE/DEQUANTIZE at the edges)\n"
    "  --calibration-method M  int8 only: how each activation's range is\n"
    "                   chosen from the calibration run (model inputs and\n"
    "                   outputs always keep the observed min/max):\n"
    "                   search (default): each observed min/max range\n"
    "                   narrowed to the fraction (1 to 0.2) that gives the\n"
    "                   least output error of the int8 model (simulated)\n"
    "                   against the float one, in graph order, on up to 100\n"
    "                   of the samples; bounded work (~1 s of CPU),\n"
    "                   layers share a fraction in large models;\n"
    "                   minmax: observed min/max, as TFLite's converter\n"
    "                   (reproduces TensorFlow's ranges);\n"
    "                   percentile: the central 99.99% of the observed\n"
    "                   values (a second run fills a histogram);\n"
    "                   search-full: search with every layer on its own,\n"
    "                   on all samples, each candidate run as a real int8\n"
    "                   model (~9 int8 runs of the samples per activation:\n"
    "                   minutes for a large model)\n"
    "prints the model size, and for a quantized model the reduction against\n"
    "the float conversion of the same INPUT.\n";

typedef enum quant_mode { Q_NONE, Q_FLOAT16, Q_DYNAMIC, Q_INT8 } quant_mode;

typedef struct convert_args {
    const char *input;
    const char *output;
    const char *calibration;
    quant_mode mode;
    int samples;          /* 0 = all */
    int samples_given;
    int io_int8;
    int io_given;
    tml_calib_method method;
    int method_given;
} convert_args;

static int parse_mode(const char *v, quant_mode *m)
{
    static const char *const names[] = { "none", "float16", "dynamic",
                                         "int8" };
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, names[i]) == 0) {
            *m = (quant_mode)i;
            return 0;
        }
    }
    return -1;
}

static int parse_method(const char *v, tml_calib_method *m)
{
    if (strcmp(v, "minmax") == 0)
        *m = TML_CALIB_MINMAX;
    else if (strcmp(v, "percentile") == 0)
        *m = TML_CALIB_PERCENTILE;
    else if (strcmp(v, "search") == 0)
        *m = TML_CALIB_SEARCH;
    else if (strcmp(v, "search-full") == 0)
        *m = TML_CALIB_SEARCH_FULL;
    else
        return -1;
    return 0;
}

static int parse_option(int argc, char **argv, int *i, convert_args *a)
{
    const char *v = NULL;
    int r;
    if ((r = cli_option_value(argc, argv, i, "-o", &v)) ||
        (r = cli_option_value(argc, argv, i, "--output", &v))) {
        if (r < 0)
            return cli_usage_error(CONVERT_USAGE, "convert: -o needs a file");
        a->output = v;
    } else if ((r = cli_option_value(argc, argv, i, "--quantize", &v))) {
        if (r < 0 || parse_mode(v, &a->mode) != 0)
            return cli_usage_error(CONVERT_USAGE, "convert: --quantize needs "
                                   "none, float16, dynamic or int8, got '%s'",
                                   r < 0 ? "" : v);
    } else if ((r = cli_option_value(argc, argv, i, "--calibration", &v))) {
        if (r < 0)
            return cli_usage_error(CONVERT_USAGE, "convert: --calibration "
                                   "needs DATA");
        a->calibration = v;
    } else if ((r = cli_option_value(argc, argv, i, "--samples", &v))) {
        long long n;
        if (r < 0 || cli_parse_int(v, 1, 1000000000LL, &n) != 0)
            return cli_usage_error(CONVERT_USAGE, "convert: --samples needs "
                                   "an integer in [1, 1000000000], got '%s'",
                                   r < 0 ? "" : v);
        a->samples = (int)n;
        a->samples_given = 1;
    } else if ((r = cli_option_value(argc, argv, i, "--calibration-method",
                                     &v))) {
        if (r < 0 || parse_method(v, &a->method) != 0)
            return cli_usage_error(CONVERT_USAGE, "convert: "
                                   "--calibration-method needs search, "
                                   "minmax, percentile or search-full, got "
                                   "'%s'",
                                   r < 0 ? "" : v);
        a->method_given = 1;
    } else if ((r = cli_option_value(argc, argv, i, "--io", &v))) {
        if (r < 0 || (strcmp(v, "float32") != 0 && strcmp(v, "int8") != 0))
            return cli_usage_error(CONVERT_USAGE, "convert: --io needs "
                                   "float32 or int8, got '%s'",
                                   r < 0 ? "" : v);
        a->io_int8 = strcmp(v, "int8") == 0;
        a->io_given = 1;
    } else {
        return cli_usage_error(CONVERT_USAGE, "convert: unknown option '%s'",
                               argv[*i]);
    }
    return CLI_OK;
}

static int check_combination(const convert_args *a)
{
    if (!a->input)
        return cli_usage_error(CONVERT_USAGE, "convert: no INPUT given");
    if (!a->output)
        return cli_usage_error(CONVERT_USAGE, "convert: no output given "
                               "(-o OUT.tflite)");
    if (a->mode == Q_INT8 && !a->calibration)
        return cli_usage_error(CONVERT_USAGE, "convert: --quantize int8 "
                               "needs --calibration DATA");
    if (a->mode != Q_INT8 && (a->calibration || a->samples_given ||
                              a->io_given || a->method_given))
        return cli_usage_error(CONVERT_USAGE, "convert: %s goes with "
                               "--quantize int8",
                               a->calibration ? "--calibration"
                               : a->samples_given ? "--samples"
                               : a->io_given ? "--io"
                               : "--calibration-method");
    return CLI_OK;
}

static int parse_args(int argc, char **argv, convert_args *a, int *help)
{
    memset(a, 0, sizeof *a);
    a->method = TML_CALIB_SEARCH;
    *help = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            *help = 1;
            return CLI_OK;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            int rc = parse_option(argc, argv, &i, a);
            if (rc != CLI_OK)
                return rc;
        } else if (a->input) {
            return cli_usage_error(CONVERT_USAGE, "convert: unexpected "
                                   "argument '%s'", argv[i]);
        } else {
            a->input = argv[i];
        }
    }
    return check_combination(a);
}

/* The output must not be the input (we never touch the input). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int export_graph(const tml_ir_graph *g, const char *input,
                        uint8_t **bytes, size_t *size)
{
    char err[512];
    if (tml_ir_export_tflite(g, bytes, size, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "%s: %s", input, err);
    return CLI_OK;
}

static int quantize(tml_ir_graph *g, const convert_args *a)
{
    char err[512] = "";
    int rc = 0;
    switch (a->mode) {
    case Q_FLOAT16:
        rc = tml_quantize_float16(g, err, sizeof err);
        break;
    case Q_DYNAMIC:
        rc = tml_quantize_dynamic(g, err, sizeof err);
        break;
    case Q_INT8: {
        tml_dataset *d = NULL;
        /* The dataset loader names the data file in its messages. */
        if (tml_dataset_load(a->calibration, g, &d, err, sizeof err) != 0)
            return cli_error(CLI_BAD_INPUT, "%s", err);
        rc = tml_calibrate_method(g, d, a->samples, 1, a->method,
                                  TML_CALIB_PERCENTILE_DEFAULT, err,
                                  sizeof err);
        tml_dataset_free(d);
        if (rc != 0)
            return cli_error(CLI_RUN_FAILED, "%s: calibration: %s", a->input,
                             err);
        rc = tml_quantize_int8(g, a->io_int8, err, sizeof err);
        break;
    }
    case Q_NONE:
        break;
    }
    if (rc != 0)
        return cli_error(CLI_BAD_INPUT, "%s: %s", a->input, err);
    return CLI_OK;
}

static void print_sizes(size_t size, size_t float_size, int quantized)
{
    printf("Size of TensorFlow Lite Model: %.2f KB\n", (double)size / 1024.0);
    if (!quantized)
        return;
    printf("Size of the float TensorFlow Lite Model: %.2f KB\n",
           (double)float_size / 1024.0);
    printf("There is %.1fx reduction in size\n",
           size ? (double)float_size / (double)size : 0.0);
}

/* Import and run the passes: the float graph every mode starts from. */
static int load_float_graph(const char *input, tml_ir_graph **out)
{
    char err[512] = "";
    tml_ir_graph *g = tml_ir_new();
    if (!g)
        return cli_error(CLI_RUN_FAILED, "out of memory");
    if (tml_import_file(input, g, err, sizeof err) != 0) {
        tml_ir_free(g);
        /* Messages about the file itself already name it. */
        if (strstr(err, input))
            return cli_error(CLI_BAD_INPUT, "%s", err);
        return cli_error(CLI_BAD_INPUT, "%s: %s", input, err);
    }
    if (tml_passes_run(g) != 0) {
        int rc = cli_error(CLI_BAD_INPUT, "%s: %s", input, g->error);
        tml_ir_free(g);
        return rc;
    }
    *out = g;
    return CLI_OK;
}

static int convert(const convert_args *a)
{
    tml_ir_graph *g = NULL;
    int rc = load_float_graph(a->input, &g);
    if (rc != CLI_OK)
        return rc;
    uint8_t *float_bytes = NULL, *bytes = NULL;
    size_t float_size = 0, size = 0;
    /* The float conversion: the output itself, or the baseline for the
     * size reduction of a quantized one. */
    rc = export_graph(g, a->input, &float_bytes, &float_size);
    if (rc == CLI_OK && a->mode != Q_NONE) {
        rc = quantize(g, a);
        if (rc == CLI_OK)
            rc = export_graph(g, a->input, &bytes, &size);
    } else if (rc == CLI_OK) {
        bytes = float_bytes;
        size = float_size;
        float_bytes = NULL;
    }
    tml_ir_free(g);
    if (rc == CLI_OK) {
        char err[512];
        if (tml_write_file_atomic(a->output, bytes, size, err, sizeof err) != 0)
            rc = cli_error(CLI_RUN_FAILED, "%s", err);
        else
            print_sizes(size, float_size ? float_size : size,
                        a->mode != Q_NONE);
    }
    free(float_bytes);
    free(bytes);
    return rc;
}

int cmd_convert(int argc, char **argv)
{
    convert_args a;
    int help;
    int rc = parse_args(argc, argv, &a, &help);
    if (help) {
        fputs(k_help, stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (same_file(a.input, a.output))
        return cli_usage_error(CONVERT_USAGE, "convert: the output '%s' is "
                               "the input file (it is never overwritten)",
                               a.output);
    return convert(&a);
}
