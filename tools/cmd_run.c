/*
 * tinyml run MODEL (--input FILE | --random [--seed N]) [--output FILE]
 *
 * One inference, printed like the TFLite tutorial's "value to predict" /
 * "predicted value": each input and output with shape, dtype, its first
 * values (dequantized beside quantized ones) and the argmax of a [N] or
 * [1, N] output.
 *
 * Input files:
 *   FILE.npy  the model's single input: an array of the input's shape
 *             (leading 1s optional: [49, 10, 1] for [1, 49, 10, 1]) or a
 *             flat array with its element count, in the input's dtype; a
 *             float32 array for a quantized int8/uint8/int16 input is
 *             quantized with the input's scale and zero point
 *             (round half away from zero, clamped, as TFLite's QUANTIZE).
 *   other     raw bytes: all inputs concatenated in model dtype, exactly
 *             their total size (as the goldens' seedN.input.bin).
 * --random fills the inputs with the golden manifests' LCG (default seed 1).
 * Output files (written atomically, after a successful invoke):
 *   FILE.npy  the model's single output as .npy (a model with several
 *             outputs is refused: use a raw file);
 *   other     all outputs raw, concatenated in model dtype (as the
 *             goldens' seedN.output.bin).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tools/lib/file_io.h"
#include "tools/lib/npy.h"

#define SHOW_VALUES 16

static const char k_help[] =
    "usage: " RUN_USAGE "\n"
    "  --input FILE   FILE.npy: the single input, of the input's shape\n"
    "                 (leading 1s optional) or flat, in the input's dtype,\n"
    "                 or float32 for a quantized input (then quantized with\n"
    "                 its scale and zero point); any other name: raw bytes\n"
    "                 of all inputs concatenated in model dtype (the size\n"
    "                 must match exactly)\n"
    "  --random       LCG inputs as the goldens (--seed N, default 1)\n"
    "  --output FILE  FILE.npy: the single output as .npy; any other name:\n"
    "                 all outputs raw, concatenated in model dtype\n";

typedef struct run_args {
    const char *model;
    const char *input;
    const char *output;
    int random;
    int seed_given;
    uint32_t seed;
} run_args;

static int parse_args(int argc, char **argv, run_args *a, int *help)
{
    memset(a, 0, sizeof *a);
    a->seed = 1;
    *help = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            *help = 1;
            return CLI_OK;
        }
        if (strcmp(argv[i], "--random") == 0) {
            a->random = 1;
        } else if ((r = cli_option_value(argc, argv, &i, "--input", &v))) {
            if (r < 0)
                return cli_usage_error(RUN_USAGE, "run: --input needs FILE");
            a->input = v;
        } else if ((r = cli_option_value(argc, argv, &i, "--output", &v))) {
            if (r < 0)
                return cli_usage_error(RUN_USAGE, "run: --output needs FILE");
            a->output = v;
        } else if ((r = cli_option_value(argc, argv, &i, "--seed", &v))) {
            long long s;
            if (r < 0 || cli_parse_int(v, 0, 4294967295LL, &s) != 0)
                return cli_usage_error(RUN_USAGE, "run: --seed needs an "
                                       "integer in [0, 4294967295], got '%s'",
                                       r < 0 ? "" : v);
            a->seed = (uint32_t)s;
            a->seed_given = 1;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(RUN_USAGE, "run: unknown option '%s'",
                                   argv[i]);
        } else if (a->model) {
            return cli_usage_error(RUN_USAGE, "run: unexpected argument '%s'",
                                   argv[i]);
        } else {
            a->model = argv[i];
        }
    }
    if (!a->model)
        return cli_usage_error(RUN_USAGE, "run: no MODEL given");
    if (!a->input == !a->random)
        return cli_usage_error(RUN_USAGE, "run: give exactly one of --input "
                               "FILE and --random");
    if (a->seed_given && !a->random)
        return cli_usage_error(RUN_USAGE, "run: --seed goes with --random");
    return CLI_OK;
}

/* ---- input files ---- */

static size_t element_count(const tml_tensor_info *info)
{
    size_t n = 1;
    for (int32_t d = 0; d < info->ndims; d++)
        n *= (size_t)info->dims[d];
    return n;
}

/* The npy's shape must be the input's (leading 1s, such as the batch
 * dimension, optional on either side), or flat with its element count. */
static int check_npy_shape(const tml_npy *a, const tml_tensor_info *info,
                           const char *path, const char *name)
{
    size_t count = element_count(info);
    int32_t i = 0, j = 0;
    while (i < a->ndims && a->dims[i] == 1)
        i++;
    while (j < info->ndims && info->dims[j] == 1)
        j++;
    int same = a->ndims - i == info->ndims - j;
    for (; same && i < a->ndims; i++, j++)
        same = a->dims[i] == (uint64_t)info->dims[j];
    if (same || (a->ndims == 1 && a->count == count))
        return 0;
    char want[96], got[256];
    size_t n = (size_t)snprintf(got, sizeof got, "[");
    for (int32_t d = 0; d < a->ndims && n < sizeof got; d++)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%llu", d ? ", " : "",
                              (unsigned long long)a->dims[d]);
    if (n < sizeof got)
        snprintf(got + n, sizeof got - n, "]");
    tml_host_format_dims(info->dims, info->ndims, want, sizeof want);
    return cli_error(CLI_BAD_INPUT, "%s: shape %s does not match input 0 '%s' "
                     "shape %s (leading 1s optional) or a flat array of %zu elements", path, got,
                     name, want, count);
}

/* TFLite's QUANTIZE: q = round(x / scale) + zero_point, clamped. */
static int quantize_into(const tml_npy *a, const tml_tensor_info *info,
                         uint8_t *dst, const char *path)
{
    long lo = info->dtype == TML_INT8 ? -128 : info->dtype == TML_UINT8 ? 0
                                                                      : -32768;
    long hi = info->dtype == TML_INT8 ? 127 : info->dtype == TML_UINT8 ? 255
                                                                     : 32767;
    for (size_t k = 0; k < a->count; k++) {
        float x;
        memcpy(&x, a->data + 4 * k, 4);
        if (isnan(x))
            return cli_error(CLI_BAD_INPUT, "%s: element %zu is NaN: cannot "
                             "quantize it", path, k);
        float r = roundf(x / info->scale);
        long q;
        if (r < (float)lo - (float)info->zero_point)
            q = lo;
        else if (r > (float)hi - (float)info->zero_point)
            q = hi;
        else
            q = (long)r + info->zero_point;
        q = q < lo ? lo : q > hi ? hi : q;
        if (info->dtype == TML_INT16) {
            int16_t v = (int16_t)q;
            memcpy(dst + 2 * k, &v, 2);
        } else {
            dst[k] = (uint8_t)(info->dtype == TML_INT8 ? (uint8_t)(int8_t)q
                                                       : (uint8_t)q);
        }
    }
    return 0;
}

static int load_npy(tml_interpreter *it, const char *path, const void *bytes,
                    size_t size, char *note, size_t note_size)
{
    if (tml_input_count(it) != 1)
        return cli_error(CLI_BAD_INPUT, "%s: the model has %d inputs and a "
                         ".npy file holds one: give a raw file of all inputs "
                         "concatenated", path, (int)tml_input_count(it));
    tml_npy a;
    char err[256];
    if (tml_npy_parse(bytes, size, &a, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "%s: %s", path, err);
    tml_tensor_info info;
    tml_input_details(it, 0, &info);
    char name[64];
    tml_host_sanitize(info.name, name, sizeof name);
    int quantize = a.dtype == TML_FLOAT32 && info.dtype != TML_FLOAT32 &&
                   info.scale != 0.0f &&
                   (info.dtype == TML_INT8 || info.dtype == TML_UINT8 ||
                    info.dtype == TML_INT16);
    if (a.dtype != info.dtype && !quantize)
        return cli_error(CLI_BAD_INPUT, "%s: dtype %s does not match input 0 "
                         "'%s' (%s%s)", path, tml_npy_descr(a.dtype), name,
                         tml_dtype_name(info.dtype),
                         info.scale != 0.0f ? ", or float32 to quantize" : "");
    if (check_npy_shape(&a, &info, path, name) != 0)
        return CLI_BAD_INPUT;
    uint8_t *dst = tml_input_data(it, 0);
    if (quantize) {
        if (quantize_into(&a, &info, dst, path) != 0)
            return CLI_BAD_INPUT;
        snprintf(note, note_size, "%s: float32, quantized to %s with scale "
                 "%.9g zero point %d", path, tml_dtype_name(info.dtype),
                 (double)info.scale, (int)info.zero_point);
        return CLI_OK;
    }
    if (tml_set_input(it, 0, a.data, a.data_bytes) != TML_OK)
        return cli_error(CLI_BAD_INPUT, "%s: %s", path, tml_error(it));
    snprintf(note, note_size, "%s", path);
    return CLI_OK;
}

static int load_raw(tml_interpreter *it, const char *path, const uint8_t *bytes,
                    size_t size, char *note, size_t note_size)
{
    size_t total = 0;
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        tml_tensor_info info;
        tml_input_details(it, i, &info);
        total += info.bytes;
    }
    if (size != total) {
        tml_tensor_info info;
        tml_input_details(it, 0, &info);
        char desc[256];
        cli_describe_tensor(&info, desc, sizeof desc);
        if (tml_input_count(it) == 1)
            return cli_error(CLI_BAD_INPUT, "%s: %zu bytes, expected %zu "
                             "(input 0 %s)", path, size, total, desc);
        return cli_error(CLI_BAD_INPUT, "%s: %zu bytes, expected %zu (all %d "
                         "inputs concatenated in model dtype)", path, size,
                         total, (int)tml_input_count(it));
    }
    size_t off = 0;
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        tml_tensor_info info;
        tml_input_details(it, i, &info);
        if (tml_set_input(it, i, bytes + off, info.bytes) != TML_OK)
            return cli_error(CLI_BAD_INPUT, "%s: %s", path, tml_error(it));
        off += info.bytes;
    }
    snprintf(note, note_size, "%s: raw, %zu bytes", path, size);
    return CLI_OK;
}

static int load_input(tml_interpreter *it, const char *path, char *note,
                      size_t note_size)
{
    char err[512];
    size_t size = 0;
    void *bytes = tml_read_file(path, &size, err, sizeof err);
    if (!bytes)
        return cli_error(CLI_BAD_INPUT, "%s", err);
    int code = cli_has_ext(path, ".npy")
                   ? load_npy(it, path, bytes, size, note, note_size)
                   : load_raw(it, path, bytes, size, note, note_size);
    free(bytes);
    return code;
}

/* ---- printing ---- */

static double value_at(tml_dtype t, const uint8_t *p, size_t k)
{
    switch (t) {
    case TML_FLOAT32: { float v; memcpy(&v, p + 4 * k, 4); return v; }
    case TML_INT8: return (int8_t)p[k];
    case TML_UINT8: return p[k];
    case TML_INT16: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    case TML_INT32: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    case TML_BOOL: return p[k] != 0;
    default: return 0.0;
    }
}

static int printable(tml_dtype t)
{
    return t == TML_FLOAT32 || t == TML_INT8 || t == TML_UINT8 ||
           t == TML_INT16 || t == TML_INT32 || t == TML_BOOL;
}

static void print_values(const tml_tensor_info *info, const uint8_t *data)
{
    size_t size = tml_dtype_size(info->dtype);
    size_t count = size ? info->bytes / size : 0;
    if (!printable(info->dtype) || !data) {
        printf("  (values of dtype %s not shown)\n",
               tml_dtype_name(info->dtype));
        return;
    }
    int quantized = info->dtype != TML_FLOAT32 && info->scale != 0.0f;
    size_t shown = count < SHOW_VALUES ? count : SHOW_VALUES;
    printf("  values%s:", quantized ? " (dequantized)" : "");
    for (size_t k = 0; k < shown; k++) {
        double v = value_at(info->dtype, data, k);
        if (k % 8 == 0)
            printf("\n   ");
        if (quantized)
            printf(" %g (%.6g)", v, (v - info->zero_point) * info->scale);
        else
            printf(" %.6g", v);
    }
    if (count > shown)
        printf("\n    ... %zu more of %zu", count - shown, count);
    printf("\n");
}

static void print_argmax(const tml_tensor_info *info, const uint8_t *data)
{
    int vector = info->ndims == 1 || (info->ndims == 2 && info->dims[0] == 1);
    size_t size = tml_dtype_size(info->dtype);
    if (!vector || !printable(info->dtype) || !data || !size ||
        info->bytes < size)
        return;
    size_t count = info->bytes / size, best = 0;
    for (size_t k = 1; k < count; k++)
        if (value_at(info->dtype, data, k) > value_at(info->dtype, data, best))
            best = k;
    double v = value_at(info->dtype, data, best);
    if (info->dtype != TML_FLOAT32 && info->scale != 0.0f)
        printf("  argmax: %zu (value %g = %.6g)\n", best, v,
               (v - info->zero_point) * info->scale);
    else
        printf("  argmax: %zu (value %.6g)\n", best, v);
}

static void print_tensor(const char *role, int32_t i,
                         const tml_tensor_info *info, const uint8_t *data)
{
    char desc[512];
    cli_describe_tensor(info, desc, sizeof desc);
    printf("%s %d %s\n", role, (int)i, desc);
    print_values(info, data);
}

/* ---- output files ---- */

static int write_output(tml_interpreter *it, const char *path)
{
    char err[512];
    size_t total = 0;
    for (int32_t i = 0; i < tml_output_count(it); i++) {
        tml_tensor_info info;
        tml_output_details(it, i, &info);
        total += info.bytes;
    }
    uint8_t *buf = malloc(total ? total : 1);
    if (!buf)
        return cli_error(CLI_RUN_FAILED, "out of memory for %zu bytes", total);
    size_t off = 0;
    tml_tensor_info info;
    for (int32_t i = 0; i < tml_output_count(it); i++) {
        tml_output_details(it, i, &info);
        tml_get_output(it, i, buf + off, info.bytes);
        off += info.bytes;
    }
    int rc;
    if (cli_has_ext(path, ".npy")) {
        size_t n = 0;
        void *npy = tml_npy_write(info.dtype, info.dims, info.ndims, buf, &n,
                                  err, sizeof err);
        if (!npy) {
            free(buf);
            return cli_error(CLI_BAD_INPUT, "%s: %s", path, err);
        }
        rc = tml_write_file_atomic(path, npy, n, err, sizeof err);
        free(npy);
    } else {
        rc = tml_write_file_atomic(path, buf, total, err, sizeof err);
    }
    free(buf);
    if (rc != 0)
        return cli_error(CLI_BAD_INPUT, "%s", err);
    return CLI_OK;
}

static int run(tml_host_interp *h, const run_args *a)
{
    tml_interpreter *it = &h->it;
    if (a->output && cli_has_ext(a->output, ".npy") &&
        tml_output_count(it) != 1)
        return cli_error(CLI_BAD_INPUT, "%s: the model has %d outputs and a "
                         ".npy file holds one: give a raw file name for all "
                         "outputs concatenated", a->output,
                         (int)tml_output_count(it));
    char note[512], err[256];
    if (a->random) {
        if (tml_host_fill_random(it, a->seed, err, sizeof err) != 0)
            return cli_error(CLI_BAD_INPUT, "%s: %s", a->model, err);
        snprintf(note, sizeof note, "random (golden LCG, seed %lu)",
                 (unsigned long)a->seed);
    } else {
        int code = load_input(it, a->input, note, sizeof note);
        if (code != CLI_OK)
            return code;
    }
    char model[512];
    tml_host_sanitize(a->model, model, sizeof model);
    printf("model: %s (arena %zu bytes)\n", model, tml_arena_needed(it));
    tml_host_sanitize(note, model, sizeof model);
    printf("value to predict: %s\n", model);
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        tml_tensor_info info;
        tml_input_details(it, i, &info);
        print_tensor("input", i, &info, tml_input_data(it, i));
    }
    if (tml_invoke(it) != TML_OK)
        return cli_error(CLI_RUN_FAILED, "%s: invoke failed: %s", a->model,
                         tml_error(it));
    printf("predicted value:\n");
    for (int32_t i = 0; i < tml_output_count(it); i++) {
        tml_tensor_info info;
        tml_output_details(it, i, &info);
        const uint8_t *data = tml_output_data(it, i);
        print_tensor("output", i, &info, data);
        print_argmax(&info, data);
    }
    if (a->output) {
        int code = write_output(it, a->output);
        if (code != CLI_OK)
            return code;
        tml_host_sanitize(a->output, model, sizeof model);
        printf("wrote %s\n", model);
    }
    return CLI_OK;
}

int cmd_run(int argc, char **argv)
{
    run_args a;
    int help;
    int code = parse_args(argc, argv, &a, &help);
    if (code != CLI_OK)
        return code;
    if (help) {
        fputs(k_help, stdout);
        return CLI_OK;
    }
    tml_host_interp h;
    char err[512];
    tml_host_status hs = tml_host_open(&h, a.model, err, sizeof err);
    if (hs != TML_HOST_OK)
        return cli_error(cli_host_code(hs), "%s", err);
    code = run(&h, &a);
    tml_host_close(&h);
    return code;
}
