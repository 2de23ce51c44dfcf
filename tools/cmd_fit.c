/*
 * tinyml fit MODEL [--board NAME ...] [--boards FILE] [--code-size FILE]
 *                  [--json]
 *
 * Whether a model fits each board's flash and RAM:
 *   flash = model bytes + the runtime's code (text + data) for exactly the
 *           model's ops on the board's core, from boards/code_size.json
 *           (scripts/measure_code_size.sh: real arm-none-eabi-gcc builds):
 *           the build `tinyml export --project` makes for this model (its
 *           dtype defines, -DTML_TRUSTED_MODEL: no verifier on the device)
 *           when that op set was measured so, else the op set with every
 *           dtype path and the verifier, else core + per-kernel figures
 *           (both upper bounds)
 *   RAM   = arena bytes (measured on this 64-bit host: an upper bound, a
 *           32-bit core needs less because tensor and node records hold
 *           4-byte pointers) + sizeof(tml_interpreter) on the core + the
 *           runtime's .data + one application copy of the inputs and the
 *           outputs + the stack (high-water mark measured under qemu)
 * Exit status: 0 when every named board fits (or no board was named), 1
 * when one does not, 2 on bad usage or input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "cli.h"
#include "cmd_deploy.h"
#include "tools/lib/boards.h"
#include "tools/lib/project_export.h"

static const char k_help[] =
    "usage: " FIT_USAGE "\n"
    "  One row per board (all boards, or each --board NAME): flash needed\n"
    "  (model + runtime code for the model's ops on the board's core, from\n"
    "  real cross-builds recorded in boards/code_size.json: the build\n"
    "  `tinyml export --project` makes, without the verifier, when that op\n"
    "  set was measured so, else an upper bound) and RAM needed\n"
    "  (arena + interpreter + runtime data + inputs/outputs + stack) against\n"
    "  the board's capacity, the margin, and whether it fits.  --boards FILE\n"
    "  reads another board file (format: boards/README.md), --code-size FILE\n"
    "  another code size file (scripts/measure_code_size.sh).  --json prints\n"
    "  {\"model\", \"boards\": [{\"name\", \"core\", \"flash_needed\",\n"
    "  \"flash_available\", \"ram_needed\", \"ram_available\", \"fits\"}]}.\n"
    "  Exit 0 when every named board fits, 1 when one does not, 2 on bad\n"
    "  input.\n";

#define MAX_NAMED 64

typedef struct model_facts {
    long long file_bytes;
    long long arena_bytes;
    long long io_bytes;
    const char **ops;      /* distinct op names */
    int nops;
    char defines[128];     /* the exported project's (tml_export_defines) */
} model_facts;

typedef struct row {
    const tml_board *board;
    tml_code_size code;
    long long flash_needed, ram_needed;
    int fits;
} row;

static int model_facts_of(tml_host_interp *h, model_facts *m)
{
    tml_interpreter *it = &h->it;
    tml_export_model em = {h->model, h->model_size, "", 0};
    char err[256];
    if (tml_export_defines(&em, 0, m->defines, sizeof m->defines, err,
                           sizeof err) != 0)
        m->defines[0] = '\0';
    m->file_bytes = (long long)h->model_size;
    m->arena_bytes = (long long)h->arena_size;
    m->io_bytes = 0;
    for (int32_t i = 0; i < tml_input_count(it); i++) {
        tml_tensor_info info;
        if (tml_input_details(it, i, &info) == TML_OK)
            m->io_bytes += (long long)info.bytes;
    }
    for (int32_t i = 0; i < tml_output_count(it); i++) {
        tml_tensor_info info;
        if (tml_output_details(it, i, &info) == TML_OK)
            m->io_bytes += (long long)info.bytes;
    }
    int32_t n = tml_op_count(it);
    m->ops = calloc(n > 0 ? (size_t)n : 1, sizeof *m->ops);
    m->nops = 0;
    if (!m->ops)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        tml_op_info op;
        if (tml_op_details(it, i, &op) != TML_OK)
            continue;
        int k = 0;
        while (k < m->nops && strcmp(m->ops[k], op.name) != 0)
            k++;
        if (k == m->nops)
            m->ops[m->nops++] = op.name;
    }
    return 0;
}

static int compute_row(row *r, const tml_board *b, const model_facts *m,
                       const char *code_size_path)
{
    char err[512];
    r->board = b;
    if (tml_code_size_for(code_size_path, b->core, m->ops, m->nops,
                          m->defines, &r->code, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "fit: %s", err);
    r->flash_needed = m->file_bytes + r->code.text + r->code.data;
    r->ram_needed = m->arena_bytes + r->code.interp_bytes + r->code.data +
                    m->io_bytes + r->code.stack_bytes;
    r->fits = r->flash_needed <= b->flash_bytes && r->ram_needed <= b->ram_bytes;
    return CLI_OK;
}

/* "1,048,576" */
static const char *commas(long long v, char *buf, size_t size)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v);
    size_t n = strlen(digits), o = 0;
    if (v < 0 && o + 1 < size)
        buf[o++] = '-';
    for (size_t i = 0; i < n && o + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* "+12.3 KB" margin, or "-34.5 KB over" */
static void margin(long long avail, long long need, char *out, size_t size)
{
    double kb = (double)(avail - need) / 1024.0;
    if (avail >= need)
        snprintf(out, size, "+%.1f KB", kb);
    else
        snprintf(out, size, "%.1f KB over", -kb);
}

static void print_table(const char *model, const model_facts *m, const row *rows,
                        int nrows)
{
    char a[32], b[32], c[32], d[32];
    printf("model: %s (%s bytes; ops:", model, commas(m->file_bytes, a, sizeof a));
    for (int i = 0; i < m->nops; i++)
        printf(" %s", m->ops[i]);
    printf(")\n");
    printf("RAM = arena %s B (measured on this 64-bit host: an upper bound "
           "for 32-bit cores) + interpreter + runtime data + inputs/outputs "
           "%s B (one application copy) + stack (measured under qemu)\n",
           commas(m->arena_bytes, a, sizeof a), commas(m->io_bytes, b, sizeof b));
    printf("flash = model + runtime code for these ops on the board's core "
           "(boards/code_size.json)\n\n");
    printf("%-28s %-14s %12s %12s %14s %12s %12s %14s  %s\n", "board", "core",
           "flash need", "flash have", "flash margin", "RAM need", "RAM have",
           "RAM margin", "fits");
    int notes = 0;
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        char fm[32], rm[32];
        margin(r->board->flash_bytes, r->flash_needed, fm, sizeof fm);
        margin(r->board->ram_bytes, r->ram_needed, rm, sizeof rm);
        const char *mark = r->code.estimate ? "*" : (r->code.exact ? "" : "+");
        notes |= r->code.estimate ? 1 : (r->code.exact ? 0 : 2);
        printf("%-28s %-14s %11s%1s %12s %14s %12s %12s %14s  %s\n",
               r->board->name, r->board->core,
               commas(r->flash_needed, a, sizeof a), mark,
               commas(r->board->flash_bytes, b, sizeof b), fm,
               commas(r->ram_needed, c, sizeof c),
               commas(r->board->ram_bytes, d, sizeof d), rm,
               r->fits ? "yes" : "NO");
    }
    printf("\nper core (from boards/code_size.json):\n");
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= strcmp(rows[j].code.measured_core,
                           r->code.measured_core) == 0;
        if (seen)
            continue;
        printf("  %-14s code %s B text + %s B data (%s), interpreter %s B, "
               "stack %s B (measured)\n", r->code.measured_core,
               commas(r->code.text, a, sizeof a),
               commas(r->code.data, b, sizeof b),
               r->code.exported ? "this op set as tinyml export builds it "
                                  "for this model"
               : r->code.exact ? "this op set with every dtype path and the "
                                 "verifier, linked and measured"
                               : "core + per-kernel figures",
               commas(r->code.interp_bytes, c, sizeof c),
               commas(r->code.stack_bytes, d, sizeof d));
    }
    if (notes & 1)
        printf("\n* no build for this (non-Arm) core: the cortex-m4 code size "
               "is shown as an estimate\n");
    if (notes & 2)
        printf("\n+ this op set was not linked as a whole: core + per-kernel "
               "figures (an upper bound)\n");
}

static int print_json(const char *model, const row *rows, int nrows)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model);
    cJSON *list = cJSON_AddArrayToObject(root, "boards");
    for (int i = 0; i < nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", rows[i].board->name);
        cJSON_AddStringToObject(o, "core", rows[i].board->core);
        cJSON_AddNumberToObject(o, "flash_needed", (double)rows[i].flash_needed);
        cJSON_AddNumberToObject(o, "flash_available",
                                (double)rows[i].board->flash_bytes);
        cJSON_AddNumberToObject(o, "ram_needed", (double)rows[i].ram_needed);
        cJSON_AddNumberToObject(o, "ram_available",
                                (double)rows[i].board->ram_bytes);
        cJSON_AddBoolToObject(o, "fits", rows[i].fits);
        cJSON_AddItemToArray(list, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return cli_error(CLI_BAD_INPUT, "fit: out of memory");
    puts(text);
    free(text);
    return CLI_OK;
}

int cmd_fit(int argc, char **argv)
{
    const char *model = NULL, *boards_path = NULL, *code_path = NULL;
    const char *named[MAX_NAMED];
    int nnamed = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (cli_is_help(argv[i])) {
            fputs(k_help, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if ((r = cli_option_value(argc, argv, &i, "--board", &v)) != 0) {
            if (r < 0)
                return cli_usage_error(FIT_USAGE, "fit: --board needs a name");
            if (nnamed == MAX_NAMED)
                return cli_usage_error(FIT_USAGE, "fit: more than %d --board",
                                       MAX_NAMED);
            named[nnamed++] = v;
        } else if ((r = cli_option_value(argc, argv, &i, "--boards", &v)) != 0) {
            if (r < 0)
                return cli_usage_error(FIT_USAGE, "fit: --boards needs a file");
            boards_path = v;
        } else if ((r = cli_option_value(argc, argv, &i, "--code-size",
                                         &v)) != 0) {
            if (r < 0)
                return cli_usage_error(FIT_USAGE, "fit: --code-size needs a "
                                       "file");
            code_path = v;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error(FIT_USAGE, "fit: unknown option '%s'",
                                   argv[i]);
        } else if (model) {
            return cli_usage_error(FIT_USAGE, "fit: more than one model");
        } else {
            model = argv[i];
        }
    }
    if (!model)
        return cli_usage_error(FIT_USAGE, "fit: no model given");

    char src[4096], err[512], default_boards[4200], default_code[4200];
    if ((!boards_path || !code_path) &&
        tml_source_dir(src, sizeof src, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "fit: %s", err);
    if (!boards_path) {
        snprintf(default_boards, sizeof default_boards, "%s/boards/boards.json",
                 src);
        boards_path = default_boards;
    }
    if (!code_path) {
        snprintf(default_code, sizeof default_code,
                 "%s/boards/code_size.json", src);
        code_path = default_code;
    }
    tml_boards boards;
    if (tml_boards_load(boards_path, &boards, err, sizeof err) != 0)
        return cli_error(CLI_BAD_INPUT, "fit: %s", err);
    for (int i = 0; i < nnamed; i++) {
        if (!tml_boards_find(&boards, named[i])) {
            tml_boards_free(&boards);
            return cli_error(CLI_BAD_INPUT, "fit: unknown board '%s' (see "
                             "%s)", named[i], boards_path);
        }
    }
    tml_host_interp h;
    tml_host_status hs = tml_host_open(&h, model, err, sizeof err);
    if (hs != TML_HOST_OK) {
        tml_boards_free(&boards);
        return cli_error(cli_host_code(hs), "%s", err);
    }
    model_facts m;
    int code = CLI_OK;
    int nrows = nnamed ? nnamed : boards.count;
    row *rows = calloc((size_t)nrows, sizeof *rows);
    if (model_facts_of(&h, &m) != 0 || !rows) {
        code = cli_error(CLI_BAD_INPUT, "fit: out of memory");
        goto done;
    }
    int all_fit = 1;
    for (int i = 0; i < nrows && code == CLI_OK; i++) {
        const tml_board *b = nnamed ? tml_boards_find(&boards, named[i])
                                    : &boards.items[i];
        code = compute_row(&rows[i], b, &m, code_path);
        all_fit &= rows[i].fits;
    }
    if (code == CLI_OK) {
        if (json)
            code = print_json(model, rows, nrows);
        else
            print_table(model, &m, rows, nrows);
    }
    if (code == CLI_OK && nnamed && !all_fit)
        code = CLI_RUN_FAILED;
done:
    free(rows);
    free(m.ops);
    tml_host_close(&h);
    tml_boards_free(&boards);
    return code;
}
