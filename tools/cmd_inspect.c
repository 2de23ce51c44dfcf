/*
 * tinyml inspect MODEL [--json]
 *
 * What tf.lite.Interpreter's get_input_details()/get_output_details() say,
 * made readable, plus the op counts, tensor count, weight bytes (sum of the
 * bytes of constant tensors), the arena bytes the model needs and the file
 * size.  --json keys: inputs, outputs (name, index, shape, dtype, scale,
 * zero_point; per-channel tensors add scales, zero_points,
 * quantized_dimension), ops (name -> count, in order of first use),
 * op_list, tensors, arena_bytes, file_bytes, weight_bytes,
 * weight_bytes_by_dtype (dtype name -> bytes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"

static const char k_help[] =
    "usage: " INSPECT_USAGE "\n"
    "  Prints each input and output (name, tensor index, shape, dtype,\n"
    "  quantization), op counts, tensor count, weight bytes, the arena bytes\n"
    "  the model needs, and the file size.  --json prints one JSON object.\n";

typedef struct op_count {
    const char *name;
    int count;
} op_count;

#define NUM_DTYPES 10      /* tml_dtype values are 0..9 */

typedef struct summary {
    op_count *ops;        /* distinct ops in order of first use */
    int nops;
    size_t weight_bytes;
    size_t weight_by_dtype[NUM_DTYPES];
} summary;

static int summarize(const tml_interpreter *it, summary *s)
{
    int32_t n = tml_op_count(it);
    s->ops = calloc(n > 0 ? (size_t)n : 1, sizeof *s->ops);
    s->nops = 0;
    s->weight_bytes = 0;
    memset(s->weight_by_dtype, 0, sizeof s->weight_by_dtype);
    if (!s->ops)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        tml_op_info op;
        if (tml_op_details(it, i, &op) != TML_OK)
            continue;
        int k = 0;
        while (k < s->nops && strcmp(s->ops[k].name, op.name) != 0)
            k++;
        if (k == s->nops)
            s->ops[s->nops++].name = op.name;
        s->ops[k].count++;
    }
    for (int32_t t = 0; t < tml_tensor_count(it); t++) {
        tml_tensor_info info;
        if (tml_tensor_details(it, t, &info) != TML_OK || !info.is_constant)
            continue;
        s->weight_bytes += info.bytes;
        if ((unsigned)info.dtype < NUM_DTYPES)
            s->weight_by_dtype[info.dtype] += info.bytes;
    }
    return 0;
}

static cJSON *tensor_json(const tml_tensor_info *info)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", info->name);
    cJSON_AddNumberToObject(o, "index", info->index);
    cJSON_AddItemToObject(o, "shape",
                          cJSON_CreateIntArray(info->dims, info->ndims));
    cJSON_AddStringToObject(o, "dtype", tml_dtype_name(info->dtype));
    cJSON_AddNumberToObject(o, "scale", info->scale);
    cJSON_AddNumberToObject(o, "zero_point", info->zero_point);
    cJSON_AddNumberToObject(o, "bytes", (double)info->bytes);
    if (info->channels > 1) {
        cJSON *scales = cJSON_AddArrayToObject(o, "scales");
        cJSON *zps = cJSON_AddArrayToObject(o, "zero_points");
        for (int32_t c = 0; c < info->channels; c++) {
            cJSON_AddItemToArray(scales, cJSON_CreateNumber(info->scales[c]));
            cJSON_AddItemToArray(
                zps, cJSON_CreateNumber((double)tml_zero_point_at(info, c)));
        }
        cJSON_AddNumberToObject(o, "quantized_dimension",
                                info->quantized_dimension);
    }
    return o;
}

static cJSON *io_json(const tml_interpreter *it, int inputs)
{
    cJSON *list = cJSON_CreateArray();
    int32_t n = inputs ? tml_input_count(it) : tml_output_count(it);
    for (int32_t i = 0; i < n; i++) {
        tml_tensor_info info;
        tml_status s = inputs ? tml_input_details(it, i, &info)
                              : tml_output_details(it, i, &info);
        if (s == TML_OK)
            cJSON_AddItemToArray(list, tensor_json(&info));
    }
    return list;
}

static cJSON *op_list_json(const tml_interpreter *it)
{
    cJSON *list = cJSON_CreateArray();
    for (int32_t i = 0; i < tml_op_count(it); i++) {
        tml_op_info op;
        if (tml_op_details(it, i, &op) != TML_OK)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "name", op.name);
        cJSON_AddNumberToObject(o, "builtin", op.builtin);
        cJSON_AddNumberToObject(o, "version", op.version);
        cJSON_AddItemToObject(o, "inputs",
                              cJSON_CreateIntArray(op.inputs, op.ninputs));
        cJSON_AddItemToObject(o, "outputs",
                              cJSON_CreateIntArray(op.outputs, op.noutputs));
        cJSON_AddItemToArray(list, o);
    }
    return list;
}

static int print_json(const tml_host_interp *h, const summary *s)
{
    const tml_interpreter *it = &h->it;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "inputs", io_json(it, 1));
    cJSON_AddItemToObject(root, "outputs", io_json(it, 0));
    cJSON *ops = cJSON_AddObjectToObject(root, "ops");
    for (int k = 0; k < s->nops; k++)
        cJSON_AddNumberToObject(ops, s->ops[k].name, s->ops[k].count);
    cJSON_AddItemToObject(root, "op_list", op_list_json(it));
    cJSON_AddNumberToObject(root, "tensors", tml_tensor_count(it));
    cJSON_AddNumberToObject(root, "arena_bytes",
                            (double)tml_arena_needed(it));
    cJSON_AddNumberToObject(root, "arena_bytes_reuse_inputs",
                            (double)tml_host_arena_reusing_inputs(h));
    cJSON_AddNumberToObject(root, "file_bytes", (double)h->model_size);
    cJSON_AddNumberToObject(root, "weight_bytes", (double)s->weight_bytes);
    cJSON *by = cJSON_AddObjectToObject(root, "weight_bytes_by_dtype");
    for (int d = 0; d < NUM_DTYPES; d++)
        if (s->weight_by_dtype[d])
            cJSON_AddNumberToObject(by, tml_dtype_name((tml_dtype)d),
                                    (double)s->weight_by_dtype[d]);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return cli_error(CLI_RUN_FAILED, "out of memory printing JSON");
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}

static void print_io(const tml_interpreter *it, int inputs)
{
    int32_t n = inputs ? tml_input_count(it) : tml_output_count(it);
    printf("%s (%d):\n", inputs ? "inputs" : "outputs", (int)n);
    for (int32_t i = 0; i < n; i++) {
        tml_tensor_info info;
        tml_status s = inputs ? tml_input_details(it, i, &info)
                              : tml_output_details(it, i, &info);
        if (s != TML_OK)
            continue;
        char line[512];
        cli_describe_tensor(&info, line, sizeof line);
        printf("  %d: %s\n", (int)i, line);
    }
}

static void print_text(const tml_host_interp *h, const char *path,
                       const summary *s)
{
    const tml_interpreter *it = &h->it;
    char name[512];
    tml_host_sanitize(path, name, sizeof name);
    printf("model: %s\n", name);
    printf("file: %zu bytes (%.1f KB)\n", h->model_size,
           (double)h->model_size / 1024.0);
    printf("weights: %zu bytes (%.1f KB) in constant tensors",
           s->weight_bytes, (double)s->weight_bytes / 1024.0);
    const char *sep = " (";
    for (int d = 0; d < NUM_DTYPES; d++) {
        if (!s->weight_by_dtype[d])
            continue;
        printf("%s%s %zu", sep, tml_dtype_name((tml_dtype)d),
               s->weight_by_dtype[d]);
        sep = ", ";
    }
    printf("%s\n", s->weight_bytes ? ")" : "");
    printf("arena: %zu bytes (%.1f KB) needed; %zu if inputs may be "
           "overwritten during invoke (as TFLite Micro plans)\n",
           tml_arena_needed(it), (double)tml_arena_needed(it) / 1024.0,
           tml_host_arena_reusing_inputs(h));
    printf("tensors: %d\n", (int)tml_tensor_count(it));
    print_io(it, 1);
    print_io(it, 0);
    printf("ops (%d):\n", (int)tml_op_count(it));
    for (int k = 0; k < s->nops; k++)
        printf("  %-24s %d\n", s->ops[k].name, s->ops[k].count);
}

int cmd_inspect(int argc, char **argv)
{
    const char *model = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(k_help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(INSPECT_USAGE, "inspect: unknown option "
                                   "'%s'", argv[i]);
        else if (model)
            return cli_usage_error(INSPECT_USAGE, "inspect: unexpected "
                                   "argument '%s'", argv[i]);
        else
            model = argv[i];
    }
    if (!model)
        return cli_usage_error(INSPECT_USAGE, "inspect: no MODEL given");

    tml_host_interp h;
    char err[512];
    tml_host_status hs = tml_host_open(&h, model, err, sizeof err);
    if (hs != TML_HOST_OK)
        return cli_error(cli_host_code(hs), "%s", err);
    summary s;
    int code = CLI_OK;
    if (summarize(&h.it, &s) != 0)
        code = cli_error(CLI_RUN_FAILED, "out of memory");
    else if (json)
        code = print_json(&h, &s);
    else
        print_text(&h, model, &s);
    free(s.ops);
    tml_host_close(&h);
    return code;
}
