/*
 * tinyml eval MODEL --data X.npy --labels Y.npy [--compare OTHER.tflite]
 *
 * Top-1 accuracy of a classifier on a labelled set, and with --compare the
 * other model's accuracy and how often both models pick the same class
 * (top-1 agreement): the seed's "float vs int8 accuracy on the test set".
 *
 * The model has one input and one output.  X.npy holds N samples: shape
 * [N, <input shape>] (the input's leading 1s, such as its batch dimension,
 * optional) or [N, element count]; dtype the input's, or float32 for a
 * quantized int8/uint8/int16 input, which is then quantized with the
 * input's scale and zero point as `tinyml run` does (TFLite's QUANTIZE:
 * round half away from zero, clamped).  Y.npy holds N integer labels
 * (int8/uint8/int16/int32) in [0, classes), or one-hot/probability rows
 * [N, classes] in float32 (the label is the row's argmax).  The predicted
 * class is the argmax of the output (the first maximum on ties; quantized
 * outputs compare in integers, which orders like the dequantized values
 * since the scale is positive).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tools/lib/file_io.h"
#include "tools/lib/npy.h"

#define EVAL_USAGE \
    "tinyml eval MODEL --data X.npy --labels Y.npy [--compare OTHER.tflite]"

static const char k_help[] =
    "usage: " EVAL_USAGE "\n"
    "  top-1 accuracy of a one-input, one-output classifier on a labelled\n"
    "  set; with --compare also the other model's accuracy and the top-1\n"
    "  agreement between the two\n"
    "  --data X.npy    N samples: [N, input shape] (leading 1s optional) or\n"
    "                  [N, elements]; the input's dtype, or float32 for a\n"
    "                  quantized input (quantized with its scale and zero\n"
    "                  point, as tinyml run)\n"
    "  --labels Y.npy  N integer labels in [0, classes), or [N, classes]\n"
    "                  float32 one-hot rows (argmax)\n"
    "  --compare M     a second model with the same input and output sizes\n";

typedef struct eval_args {
    const char *model;
    const char *data;
    const char *labels;
    const char *compare;
} eval_args;

/* One model ready to classify samples. */
typedef struct classifier {
    const char *path;
    tml_host_interp h;
    tml_tensor_info in;
    tml_tensor_info out;
    size_t in_count;        /* input elements */
    size_t classes;         /* output elements */
    int quantize;           /* float32 data into a quantized input */
    long correct;
} classifier;

static int parse_args(int argc, char **argv, eval_args *a, int *help)
{
    memset(a, 0, sizeof *a);
    *help = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (cli_is_help(argv[i])) {
            *help = 1;
            return CLI_OK;
        }
        if ((r = cli_option_value(argc, argv, &i, "--data", &v))) {
            if (r < 0)
                return cli_usage_error(EVAL_USAGE, "eval: --data needs FILE");
            a->data = v;
        } else if ((r = cli_option_value(argc, argv, &i, "--labels", &v))) {
            if (r < 0)
                return cli_usage_error(EVAL_USAGE, "eval: --labels needs FILE");
            a->labels = v;
        } else if ((r = cli_option_value(argc, argv, &i, "--compare", &v))) {
            if (r < 0)
                return cli_usage_error(EVAL_USAGE, "eval: --compare needs "
                                       "MODEL");
            a->compare = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(EVAL_USAGE, "eval: unknown option '%s'",
                                   argv[i]);
        } else if (a->model) {
            return cli_usage_error(EVAL_USAGE, "eval: unexpected argument "
                                   "'%s'", argv[i]);
        } else {
            a->model = argv[i];
        }
    }
    if (!a->model)
        return cli_usage_error(EVAL_USAGE, "eval: no MODEL given");
    if (!a->data)
        return cli_usage_error(EVAL_USAGE, "eval: --data X.npy is required");
    if (!a->labels)
        return cli_usage_error(EVAL_USAGE, "eval: --labels Y.npy is required");
    return CLI_OK;
}

static size_t element_count(const tml_tensor_info *info)
{
    size_t n = 1;
    for (int32_t d = 0; d < info->ndims; d++)
        n *= (size_t)info->dims[d];
    return n;
}

static int is_quantized_int(const tml_tensor_info *info)
{
    return info->scale != 0.0f &&
           (info->dtype == TML_INT8 || info->dtype == TML_UINT8 ||
            info->dtype == TML_INT16);
}

static void format_npy_dims(const tml_npy *a, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "[");
    for (int32_t d = 0; d < a->ndims && n < size; d++)
        n += (size_t)snprintf(out + n, size - n, "%s%llu", d ? ", " : "",
                              (unsigned long long)a->dims[d]);
    if (n < size)
        snprintf(out + n, size - n, "]");
}

/* Opens one model and checks it is a classifier: one input, one output of
 * a printable dtype. */
static int open_classifier(classifier *c, const char *path)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    char err[512];
    tml_host_status hs = tml_host_open(&c->h, path, err, sizeof err);
    if (hs != TML_HOST_OK)
        return cli_error(cli_host_code(hs), "%s", err);
    tml_interpreter *it = &c->h.it;
    if (tml_input_count(it) != 1 || tml_output_count(it) != 1)
        return cli_error(CLI_BAD_INPUT, "%s: eval needs one input and one "
                         "output, the model has %d and %d", path,
                         (int)tml_input_count(it), (int)tml_output_count(it));
    tml_input_details(it, 0, &c->in);
    tml_output_details(it, 0, &c->out);
    c->in_count = element_count(&c->in);
    c->classes = element_count(&c->out);
    tml_dtype t = c->out.dtype;
    if (t != TML_FLOAT32 && t != TML_INT8 && t != TML_UINT8 &&
        t != TML_INT16 && t != TML_INT32)
        return cli_error(CLI_BAD_INPUT, "%s: output dtype %s is not a score "
                         "(float32, int8, uint8, int16 or int32)", path,
                         tml_dtype_name(t));
    if (c->classes < 2)
        return cli_error(CLI_BAD_INPUT, "%s: the output has %zu element(s): "
                         "not a classifier", path, c->classes);
    return CLI_OK;
}

/* The data's dtype must be the input's, or float32 for a quantized input;
 * its shape [N, input shape] (leading 1s optional) or [N, elements]. */
static int check_data(classifier *c, const tml_npy *x, const char *path)
{
    char name[64];
    tml_host_sanitize(c->in.name, name, sizeof name);
    c->quantize = x->dtype == TML_FLOAT32 && c->in.dtype != TML_FLOAT32 &&
                  is_quantized_int(&c->in);
    if (x->dtype != c->in.dtype && !c->quantize)
        return cli_error(CLI_BAD_INPUT, "%s: dtype %s does not match %s input "
                         "'%s' (%s%s)", path, tml_npy_descr(x->dtype), c->path,
                         name, tml_dtype_name(c->in.dtype),
                         is_quantized_int(&c->in) ? ", or float32 to quantize"
                                                  : "");
    int same = 0;
    if (x->ndims >= 1) {
        int32_t i = 1, j = 0;
        while (i < x->ndims && x->dims[i] == 1)
            i++;
        while (j < c->in.ndims && c->in.dims[j] == 1)
            j++;
        same = x->ndims - i == c->in.ndims - j;
        for (; same && i < x->ndims; i++, j++)
            same = x->dims[i] == (uint64_t)c->in.dims[j];
        if (x->ndims == 2 && x->dims[1] == c->in_count)
            same = 1;
    }
    if (same)
        return CLI_OK;
    char got[256], want[96];
    format_npy_dims(x, got, sizeof got);
    tml_host_format_dims(c->in.dims, c->in.ndims, want, sizeof want);
    return cli_error(CLI_BAD_INPUT, "%s: shape %s is not N samples of %s input "
                     "'%s' %s (leading 1s optional) or [N, %zu]", path, got,
                     c->path, name, want, c->in_count);
}

/* Labels: N integers, or [N, classes] float32 rows (argmax). */
static int read_labels(const tml_npy *y, size_t n, size_t classes,
                       const char *path, int32_t *labels)
{
    int ints = y->dtype == TML_INT8 || y->dtype == TML_UINT8 ||
               y->dtype == TML_INT16 || y->dtype == TML_INT32 ||
               y->dtype == TML_INT64;
    if (ints && y->ndims == 1 && y->dims[0] == n) {
        for (size_t k = 0; k < n; k++) {
            int64_t v;
            if (y->dtype == TML_INT64) {
                memcpy(&v, y->data + 8 * k, 8);
            } else if (y->dtype == TML_INT8) {
                v = (int8_t)y->data[k];
            } else if (y->dtype == TML_UINT8) {
                v = y->data[k];
            } else if (y->dtype == TML_INT16) {
                int16_t s;
                memcpy(&s, y->data + 2 * k, 2);
                v = s;
            } else {
                int32_t i;
                memcpy(&i, y->data + 4 * k, 4);
                v = i;
            }
            if (v < 0 || (uint64_t)v >= classes)
                return cli_error(CLI_BAD_INPUT, "%s: label %zu is %ld, outside "
                                 "[0, %zu) (the model has %zu classes)", path,
                                 k, (long)v, classes, classes);
            labels[k] = (int32_t)v;
        }
        return CLI_OK;
    }
    if (y->dtype == TML_FLOAT32 && y->ndims == 2 && y->dims[0] == n &&
        y->dims[1] == classes) {
        for (size_t k = 0; k < n; k++) {
            size_t best = 0;
            float bv;
            memcpy(&bv, y->data + 4 * (k * classes), 4);
            for (size_t j = 1; j < classes; j++) {
                float v;
                memcpy(&v, y->data + 4 * (k * classes + j), 4);
                if (v > bv) {
                    bv = v;
                    best = j;
                }
            }
            labels[k] = (int32_t)best;
        }
        return CLI_OK;
    }
    char got[256];
    format_npy_dims(y, got, sizeof got);
    return cli_error(CLI_BAD_INPUT, "%s: %s %s: expected %zu integer labels "
                     "(int8/uint8/int16/int32/int64 [%zu]) or float32 one-hot rows "
                     "[%zu, %zu]", path, tml_npy_descr(y->dtype), got, n, n,
                     n, classes);
}

/* TFLite's QUANTIZE: q = round(x / scale) + zero_point, clamped. */
static int quantize_sample(const classifier *c, const uint8_t *src,
                           uint8_t *dst, const char *path, size_t sample)
{
    long lo = c->in.dtype == TML_INT8 ? -128 : c->in.dtype == TML_UINT8 ? 0
                                                                        : -32768;
    long hi = c->in.dtype == TML_INT8 ? 127 : c->in.dtype == TML_UINT8 ? 255
                                                                       : 32767;
    for (size_t k = 0; k < c->in_count; k++) {
        float x;
        memcpy(&x, src + 4 * k, 4);
        if (isnan(x))
            return cli_error(CLI_BAD_INPUT, "%s: sample %zu element %zu is "
                             "NaN: cannot quantize it", path, sample, k);
        float r = roundf(x / c->in.scale);
        long q;
        if (r < (float)(lo - c->in.zero_point))
            q = lo;
        else if (r > (float)(hi - c->in.zero_point))
            q = hi;
        else
            q = (long)r + c->in.zero_point;
        q = q < lo ? lo : q > hi ? hi : q;
        if (c->in.dtype == TML_INT16) {
            int16_t v = (int16_t)q;
            memcpy(dst + 2 * k, &v, 2);
        } else {
            dst[k] = c->in.dtype == TML_INT8 ? (uint8_t)(int8_t)q : (uint8_t)q;
        }
    }
    return CLI_OK;
}

static double score_at(tml_dtype t, const uint8_t *p, size_t k)
{
    switch (t) {
    case TML_FLOAT32: { float v; memcpy(&v, p + 4 * k, 4); return v; }
    case TML_INT8: return (int8_t)p[k];
    case TML_UINT8: return p[k];
    case TML_INT16: { int16_t v; memcpy(&v, p + 2 * k, 2); return v; }
    default: { int32_t v; memcpy(&v, p + 4 * k, 4); return v; }
    }
}

/* Runs sample `k` of x; *top is the predicted class. */
static int classify(classifier *c, const tml_npy *x, size_t k,
                    const char *data_path, size_t *top)
{
    tml_interpreter *it = &c->h.it;
    const uint8_t *src = x->data + k * c->in_count * x->elem_size;
    if (c->quantize) {
        int code = quantize_sample(c, src, tml_input_data(it, 0), data_path, k);
        if (code != CLI_OK)
            return code;
    } else if (tml_set_input(it, 0, src, c->in_count * x->elem_size) !=
               TML_OK) {
        return cli_error(CLI_BAD_INPUT, "%s: sample %zu: %s", c->path, k,
                         tml_error(it));
    }
    if (tml_invoke(it) != TML_OK)
        return cli_error(CLI_RUN_FAILED, "%s: invoke failed on sample %zu: %s",
                         c->path, k, tml_error(it));
    const uint8_t *out = tml_output_data(it, 0);
    size_t best = 0;
    double bv = score_at(c->out.dtype, out, 0);
    for (size_t j = 1; j < c->classes; j++) {
        double v = score_at(c->out.dtype, out, j);
        if (v > bv) {
            bv = v;
            best = j;
        }
    }
    *top = best;
    return CLI_OK;
}

static void describe_input(const classifier *c, char *out, size_t size)
{
    char dims[96];
    tml_host_format_dims(c->in.dims, c->in.ndims, dims, sizeof dims);
    if (c->quantize)
        snprintf(out, size, "%s input %s, float32 data quantized with scale "
                 "%.9g zero point %d", tml_dtype_name(c->in.dtype), dims,
                 (double)c->in.scale, (int)c->in.zero_point);
    else
        snprintf(out, size, "%s input %s", tml_dtype_name(c->in.dtype), dims);
}

static void print_accuracy(const char *indent, long correct, size_t n)
{
    printf("%saccuracy: %.2f%% (%ld of %zu)\n", indent,
           n ? 100.0 * (double)correct / (double)n : 0.0, correct, n);
}

static int evaluate(const eval_args *a, classifier *m, classifier *o,
                    const tml_npy *x, const int32_t *labels, size_t n)
{
    long agree = 0;
    for (size_t k = 0; k < n; k++) {
        size_t top_m = 0, top_o = 0;
        int code = classify(m, x, k, a->data, &top_m);
        if (code != CLI_OK)
            return code;
        m->correct += top_m == (size_t)labels[k];
        if (!o)
            continue;
        code = classify(o, x, k, a->data, &top_o);
        if (code != CLI_OK)
            return code;
        o->correct += top_o == (size_t)labels[k];
        agree += top_m == top_o;
    }
    char desc[256], path[512];
    tml_host_sanitize(a->model, path, sizeof path);
    describe_input(m, desc, sizeof desc);
    printf("model: %s (%s, %zu classes)\n", path, desc, m->classes);
    tml_host_sanitize(a->data, path, sizeof path);
    char dims[256];
    format_npy_dims(x, dims, sizeof dims);
    printf("data: %s: %zu samples, %s %s\n", path, n, tml_npy_descr(x->dtype),
           dims);
    print_accuracy("", m->correct, n);
    if (o) {
        tml_host_sanitize(a->compare, path, sizeof path);
        describe_input(o, desc, sizeof desc);
        printf("compare: %s (%s)\n", path, desc);
        print_accuracy("  ", o->correct, n);
        printf("  top-1 agreement: %.2f%% (%ld of %zu)\n",
               n ? 100.0 * (double)agree / (double)n : 0.0, agree, n);
    }
    return CLI_OK;
}

/* Reads and parses one .npy file; *buf must be freed. */
static int load_npy(const char *path, void **buf, tml_npy *a)
{
    char err[512];
    size_t size = 0;
    *buf = tml_read_file(path, &size, err, sizeof err);
    if (!*buf)
        return cli_error(CLI_BAD_INPUT, "%s", err);
    if (tml_npy_parse(*buf, size, a, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "%s: %s", path, err);
    return CLI_OK;
}

static int run_eval(const eval_args *a, classifier *m, classifier *o)
{
    void *xbuf = NULL, *ybuf = NULL;
    int32_t *labels = NULL;
    tml_npy x, y;
    int code = open_classifier(m, a->model);
    if (code == CLI_OK && a->compare)
        code = open_classifier(o, a->compare);
    if (code == CLI_OK && a->compare && o->classes != m->classes)
        code = cli_error(CLI_BAD_INPUT, "%s: %zu outputs, %s has %zu: not the "
                         "same classifier", a->compare, o->classes, a->model,
                         m->classes);
    if (code == CLI_OK)
        code = load_npy(a->data, &xbuf, &x);
    if (code == CLI_OK && (x.ndims < 1 || x.dims[0] == 0))
        code = cli_error(CLI_BAD_INPUT, "%s: no samples (shape [N, ...] with "
                         "N >= 1 expected)", a->data);
    if (code == CLI_OK)
        code = check_data(m, &x, a->data);
    if (code == CLI_OK && a->compare)
        code = check_data(o, &x, a->data);
    if (code == CLI_OK)
        code = load_npy(a->labels, &ybuf, &y);
    size_t n = code == CLI_OK ? (size_t)x.dims[0] : 0;
    if (code == CLI_OK) {
        labels = malloc(n * sizeof *labels);
        if (!labels)
            code = cli_error(CLI_RUN_FAILED, "out of memory for %zu labels", n);
    }
    if (code == CLI_OK)
        code = read_labels(&y, n, m->classes, a->labels, labels);
    if (code == CLI_OK)
        code = evaluate(a, m, a->compare ? o : NULL, &x, labels, n);
    free(labels);
    free(ybuf);
    free(xbuf);
    return code;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a;
    int help;
    int code = parse_args(argc, argv, &a, &help);
    if (code != CLI_OK)
        return code;
    if (help) {
        fputs(k_help, stdout);
        return CLI_OK;
    }
    classifier m, o;
    memset(&m, 0, sizeof m);
    memset(&o, 0, sizeof o);
    code = run_eval(&a, &m, &o);
    tml_host_close(&o.h);
    tml_host_close(&m.h);
    return code;
}
