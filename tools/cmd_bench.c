/*
 * tinyml bench MODEL [--json] [--iterations N] [--baselines FILE]
 *
 * Times tml_invoke on the golden LCG inputs (seed 1).  Default: one
 * untimed warm-up invoke, then invokes until 0.5 s have passed (at least
 * 5, at most 1,000,000), median microseconds per invoke.  --iterations N:
 * exactly N invokes and no warm-up beyond allocate, so that an instruction
 * counter (bench/callgrind.sh) can take the difference between N = 1 and
 * N = 2 as the cost of one invoke.
 *
 * TFLite Micro's figures come from baselines.json (--baselines FILE, else
 * $TINYML_SHARED/baselines.json, else ../shared/baselines.json), looked up
 * by the model's file stem; the table shows ours, theirs and ours/theirs.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "cli.h"
#include "tools/lib/file_io.h"

#define MIN_SECONDS 0.5
#define MIN_RUNS 5
#define MAX_RUNS 1000000

static const char k_help[] =
    "usage: " BENCH_USAGE "\n"
    "  Median microseconds per invoke (inputs: golden LCG, seed 1) and the\n"
    "  arena bytes, beside TFLite Micro's figures from baselines.json\n"
    "  (--baselines FILE, else $TINYML_SHARED/baselines.json, else\n"
    "  ../shared/baselines.json) when it knows the model's file stem.\n"
    "  --iterations N  exactly N invokes, no warm-up (for instruction\n"
    "                  counters: N=2 minus N=1 is one invoke)\n"
    "  --json          one JSON object\n";

typedef struct bench_args {
    const char *model;
    const char *baselines;
    long long iterations;   /* 0 = time-based */
    int json;
} bench_args;

typedef struct baseline {
    int found;
    double arena;           /* tflm_arena_used_bytes, < 0 when absent */
    double invoke_us;       /* tflm_host_invoke_us */
    double instructions;    /* tflm_callgrind_instructions */
    char source[512];
} baseline;

typedef struct result {
    long long runs;
    double median_us, min_us, mean_us;
    size_t arena;
    size_t arena_reuse;     /* inputs reusable, as TFLM plans */
} result;

static int parse_args(int argc, char **argv, bench_args *a, int *help)
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
        if (strcmp(argv[i], "--json") == 0) {
            a->json = 1;
        } else if ((r = cli_option_value(argc, argv, &i, "--iterations",
                                         &v))) {
            if (r < 0 || cli_parse_int(v, 1, MAX_RUNS, &a->iterations) != 0)
                return cli_usage_error(BENCH_USAGE, "bench: --iterations "
                                       "needs an integer in [1, %d], got "
                                       "'%s'", MAX_RUNS, r < 0 ? "" : v);
        } else if ((r = cli_option_value(argc, argv, &i, "--baselines",
                                         &v))) {
            if (r < 0)
                return cli_usage_error(BENCH_USAGE, "bench: --baselines "
                                       "needs FILE");
            a->baselines = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(BENCH_USAGE, "bench: unknown option '%s'",
                                   argv[i]);
        } else if (a->model) {
            return cli_usage_error(BENCH_USAGE, "bench: unexpected argument "
                                   "'%s'", argv[i]);
        } else {
            a->model = argv[i];
        }
    }
    if (!a->model)
        return cli_usage_error(BENCH_USAGE, "bench: no MODEL given");
    return CLI_OK;
}

/* ---- baselines.json ---- */

static double number_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1.0;
}

/* Fills *b for the model's stem.  A missing default file is no error; an
 * explicit --baselines FILE must exist and parse. */
static int load_baseline(const bench_args *a, baseline *b)
{
    memset(b, 0, sizeof *b);
    b->arena = b->invoke_us = b->instructions = -1.0;
    const char *shared = getenv("TINYML_SHARED");
    if (a->baselines)
        snprintf(b->source, sizeof b->source, "%s", a->baselines);
    else if (shared && *shared)
        snprintf(b->source, sizeof b->source, "%s/baselines.json", shared);
    else
        snprintf(b->source, sizeof b->source, "../shared/baselines.json");
    char err[600];
    size_t size = 0;
    char *text = tml_read_file(b->source, &size, err, sizeof err);
    if (!text)
        return a->baselines ? cli_error(CLI_BAD_INPUT, "%s", err) : CLI_OK;
    cJSON *root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!root) {
        if (a->baselines)
            return cli_error(CLI_BAD_INPUT, "%s: not valid JSON",
                             b->source);
        return CLI_OK;
    }
    char stem[256];
    cli_stem(a->model, stem, sizeof stem);
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(models, stem);
    if (cJSON_IsObject(m)) {
        b->found = 1;
        b->arena = number_field(m, "tflm_arena_used_bytes");
        b->invoke_us = number_field(m, "tflm_host_invoke_us");
        b->instructions = number_field(m, "tflm_callgrind_instructions");
    }
    cJSON_Delete(root);
    return CLI_OK;
}

/* ---- timing ---- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static int time_invokes(tml_interpreter *it, const bench_args *a, result *r)
{
    long long cap = a->iterations ? a->iterations : MAX_RUNS;
    double *t = malloc((size_t)cap * sizeof *t);
    if (!t)
        return cli_error(CLI_RUN_FAILED, "out of memory for %lld timings",
                         cap);
    if (!a->iterations && tml_invoke(it) != TML_OK) {
        free(t);
        return cli_error(CLI_RUN_FAILED, "%s: invoke failed: %s", a->model,
                         tml_error(it));
    }
    double start = now_us(), total = 0.0;
    long long n = 0;
    while (n < cap) {
        double t0 = now_us();
        if (tml_invoke(it) != TML_OK) {
            free(t);
            return cli_error(CLI_RUN_FAILED, "%s: invoke failed: %s",
                             a->model, tml_error(it));
        }
        t[n] = now_us() - t0;
        total += t[n++];
        if (!a->iterations && n >= MIN_RUNS &&
            now_us() - start >= MIN_SECONDS * 1e6)
            break;
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    r->runs = n;
    r->min_us = t[0];
    r->mean_us = total / (double)n;
    r->median_us = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2.0;
    free(t);
    return CLI_OK;
}

/* ---- output ---- */

static void add_ratio(cJSON *o, const char *key, double ours, double theirs)
{
    if (theirs > 0.0)
        cJSON_AddNumberToObject(o, key, ours / theirs);
}

static int print_json(const bench_args *a, const result *r, const baseline *b)
{
    char stem[256];
    cli_stem(a->model, stem, sizeof stem);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", stem);
    cJSON_AddStringToObject(o, "file", a->model);
    cJSON_AddNumberToObject(o, "iterations", (double)r->runs);
    cJSON_AddNumberToObject(o, "median_us", r->median_us);
    cJSON_AddNumberToObject(o, "min_us", r->min_us);
    cJSON_AddNumberToObject(o, "mean_us", r->mean_us);
    cJSON_AddNumberToObject(o, "arena_bytes", (double)r->arena);
    cJSON_AddNumberToObject(o, "arena_bytes_reuse_inputs", (double)r->arena_reuse);
    if (b->arena >= 0)
        cJSON_AddNumberToObject(o, "tflm_arena_used_bytes", b->arena);
    if (b->invoke_us >= 0)
        cJSON_AddNumberToObject(o, "tflm_host_invoke_us", b->invoke_us);
    if (b->instructions >= 0)
        cJSON_AddNumberToObject(o, "tflm_callgrind_instructions",
                                b->instructions);
    /* Like for like: TFLM reuses input memory, so compare that plan. */
    add_ratio(o, "arena_ratio", (double)r->arena_reuse, b->arena);
    add_ratio(o, "invoke_us_ratio", r->median_us, b->invoke_us);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return cli_error(CLI_RUN_FAILED, "out of memory printing JSON");
    printf("%s\n", text);
    free(text);
    return CLI_OK;
}

static void print_row(const char *what, const char *ours, double theirs,
                      double ratio_ours)
{
    char t[32] = "-", q[32] = "-";
    if (theirs >= 0) {
        snprintf(t, sizeof t, "%.10g", theirs);
        if (ratio_ours >= 0 && theirs > 0)
            snprintf(q, sizeof q, "%.3f", ratio_ours / theirs);
    }
    printf("%-24s %14s %14s %8s\n", what, ours, t, q);
}

static void print_text(const bench_args *a, const result *r,
                       const baseline *b)
{
    char name[512];
    tml_host_sanitize(a->model, name, sizeof name);
    printf("model: %s\n", name);
    printf("invokes: %lld%s, median %.1f us, min %.1f us, mean %.1f us\n",
           r->runs, a->iterations ? " (fixed, no warm-up)" : "",
           r->median_us, r->min_us, r->mean_us);
    printf("arena: %zu bytes (inputs kept across invokes); %zu bytes with "
           "inputs reused as TFLite Micro does\n", r->arena, r->arena_reuse);
    if (!b->found) {
        char stem[256];
        cli_stem(a->model, stem, sizeof stem);
        tml_host_sanitize(stem, name, sizeof name);
        printf("no TFLite Micro baseline for '%s'\n", name);
        return;
    }
    char ours[32];
    printf("\n%-24s %14s %14s %8s\n", "", "tinyml", "TFLite Micro",
           "ratio");
    snprintf(ours, sizeof ours, "%zu", r->arena_reuse);
    print_row("arena bytes (as TFLM)", ours, b->arena, (double)r->arena_reuse);
    snprintf(ours, sizeof ours, "%.1f", r->median_us);
    print_row("invoke us (median)", ours, b->invoke_us, r->median_us);
    print_row("callgrind instructions", "(callgrind.sh)", b->instructions,
              -1.0);
}

int cmd_bench(int argc, char **argv)
{
    bench_args a;
    int help;
    int code = parse_args(argc, argv, &a, &help);
    if (code != CLI_OK)
        return code;
    if (help) {
        fputs(k_help, stdout);
        return CLI_OK;
    }
    baseline b;
    code = load_baseline(&a, &b);
    if (code != CLI_OK)
        return code;
    tml_host_interp h;
    char err[512];
    tml_host_status hs = tml_host_open(&h, a.model, err, sizeof err);
    if (hs != TML_HOST_OK)
        return cli_error(cli_host_code(hs), "%s", err);
    result r;
    memset(&r, 0, sizeof r);
    r.arena = tml_arena_needed(&h.it);
    r.arena_reuse = tml_host_arena_reusing_inputs(&h);
    if (tml_host_fill_random(&h.it, 1, err, sizeof err) != 0)
        code = cli_error(CLI_BAD_INPUT, "%s: %s", a.model, err);
    if (code == CLI_OK)
        code = time_invokes(&h.it, &a, &r);
    tml_host_close(&h);
    if (code != CLI_OK)
        return code;
    return a.json ? print_json(&a, &r, &b) : (print_text(&a, &r, &b), CLI_OK);
}
