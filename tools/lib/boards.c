/* Board database and measured code sizes; see boards.h. */
#define _POSIX_C_SOURCE 200809L
#include "boards.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "tools/lib/file_io.h"

static int fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return -1;
}

static cJSON *read_json(const char *path, char *err, size_t err_size)
{
    size_t size = 0;
    char *text = tml_read_file(path, &size, err, err_size);
    if (!text)
        return NULL;
    cJSON *root = cJSON_ParseWithLength(text, size);
    free(text);
    if (!root)
        fail(err, err_size, "%s: not valid JSON", path);
    return root;
}

/* Copies a string field (optional unless required); -1 when it is the wrong
 * type, missing while required, or too long. */
static int get_string(const cJSON *o, const char *key, char *out,
                      size_t out_size, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    out[0] = '\0';
    if (!v)
        return required ? -1 : 0;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= out_size)
        return -1;
    strcpy(out, v->valuestring);
    return 0;
}

/* A non-negative integer field; def when absent and not required. */
static int get_bytes(const cJSON *o, const char *key, long long def,
                     int required, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = def;
    if (!v)
        return required ? -1 : 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
        v->valuedouble != (double)(long long)v->valuedouble)
        return -1;
    *out = (long long)v->valuedouble;
    return 0;
}

static int parse_board(const cJSON *o, tml_board *b, int index,
                       const char *path, char *err, size_t err_size)
{
    memset(b, 0, sizeof *b);
    if (!cJSON_IsObject(o))
        return fail(err, err_size, "%s: boards[%d] is not an object", path,
                    index);
    if (get_string(o, "name", b->name, sizeof b->name, 1) || !b->name[0])
        return fail(err, err_size, "%s: boards[%d]: \"name\" must be a "
                    "non-empty string (at most %zu characters)", path, index,
                    sizeof b->name - 1);
    if (get_string(o, "core", b->core, sizeof b->core, 1) || !b->core[0])
        return fail(err, err_size, "%s: board '%s': \"core\" must be a "
                    "non-empty string", path, b->name);
    if (get_string(o, "mcu", b->mcu, sizeof b->mcu, 0) ||
        get_string(o, "fpu", b->fpu, sizeof b->fpu, 0) ||
        get_string(o, "qemu_machine", b->qemu_machine,
                   sizeof b->qemu_machine, 0))
        return fail(err, err_size, "%s: board '%s': \"mcu\", \"fpu\" and "
                    "\"qemu_machine\" must be short strings", path, b->name);
    if (get_bytes(o, "ram_bytes", 0, 1, &b->ram_bytes) ||
        get_bytes(o, "flash_bytes", 0, 1, &b->flash_bytes) ||
        b->ram_bytes == 0 || b->flash_bytes == 0)
        return fail(err, err_size, "%s: board '%s': \"ram_bytes\" and "
                    "\"flash_bytes\" must be positive integers", path,
                    b->name);
    if (get_bytes(o, "flash_origin", 0, 0, &b->flash_origin) ||
        get_bytes(o, "ram_origin", 0x20000000, 0, &b->ram_origin))
        return fail(err, err_size, "%s: board '%s': \"flash_origin\" and "
                    "\"ram_origin\" must be non-negative integers", path,
                    b->name);
    const cJSON *clock = cJSON_GetObjectItemCaseSensitive(o, "clock_mhz");
    if (clock && cJSON_IsNumber(clock))
        b->clock_mhz = clock->valuedouble;
    b->emulated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o,
                                                                "emulated"));
    const cJSON *aliases = cJSON_GetObjectItemCaseSensitive(o, "aliases");
    size_t used = 0;
    b->aliases[used++] = '|';
    if (aliases && !cJSON_IsArray(aliases))
        return fail(err, err_size, "%s: board '%s': \"aliases\" must be an "
                    "array of strings", path, b->name);
    const cJSON *a;
    cJSON_ArrayForEach(a, aliases) {
        size_t n = cJSON_IsString(a) ? strlen(a->valuestring) : 0;
        if (!cJSON_IsString(a) || n == 0 || strchr(a->valuestring, '|') ||
            used + n + 2 > sizeof b->aliases)
            return fail(err, err_size, "%s: board '%s': bad alias (strings "
                        "without '|', %zu characters in all)", path, b->name,
                        sizeof b->aliases - 2);
        memcpy(b->aliases + used, a->valuestring, n);
        used += n;
        b->aliases[used++] = '|';
    }
    b->aliases[used] = '\0';
    return 0;
}

int tml_boards_load(const char *path, tml_boards *out, char *err,
                    size_t err_size)
{
    memset(out, 0, sizeof *out);
    cJSON *root = read_json(path, err, err_size);
    if (!root)
        return -1;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "boards");
    int n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    if (n == 0) {
        cJSON_Delete(root);
        return fail(err, err_size, "%s: no \"boards\" array (see "
                    "boards/README.md)", path);
    }
    out->items = calloc((size_t)n, sizeof *out->items);
    if (!out->items) {
        cJSON_Delete(root);
        return fail(err, err_size, "%s: out of memory", path);
    }
    for (int i = 0; i < n; i++) {
        if (parse_board(cJSON_GetArrayItem(list, i), &out->items[i], i, path,
                        err, err_size) != 0) {
            cJSON_Delete(root);
            tml_boards_free(out);
            return -1;
        }
        out->count = i + 1;
    }
    cJSON_Delete(root);
    return 0;
}

void tml_boards_free(tml_boards *b)
{
    free(b->items);
    memset(b, 0, sizeof *b);
}

/* Case-insensitive, '-' == '_'. */
static int same_name(const char *a, size_t alen, const char *b)
{
    if (strlen(b) != alen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        int x = tolower((unsigned char)a[i]), y = tolower((unsigned char)b[i]);
        if (x == '-')
            x = '_';
        if (y == '-')
            y = '_';
        if (x != y)
            return 0;
    }
    return 1;
}

const tml_board *tml_boards_find(const tml_boards *b, const char *name)
{
    for (int i = 0; i < b->count; i++) {
        if (same_name(b->items[i].name, strlen(b->items[i].name), name))
            return &b->items[i];
    }
    for (int i = 0; i < b->count; i++) {
        const char *p = b->items[i].aliases + 1;
        const char *bar;
        while ((bar = strchr(p, '|')) != NULL) {
            if (same_name(p, (size_t)(bar - p), name))
                return &b->items[i];
            p = bar + 1;
        }
    }
    return NULL;
}

/* ---- code sizes ---- */

/* The measured build a board's core uses: ARMv6-M cores share the
 * cortex-m0plus build; non-Arm cores have none (estimate from cortex-m4). */
static const char *measured_core(const char *core, int *estimate)
{
    *estimate = 0;
    if (strcmp(core, "cortex-m0") == 0 || strcmp(core, "cortex-m1") == 0)
        return "cortex-m0plus";
    if (strncmp(core, "cortex-m", 8) == 0)
        return core;
    *estimate = 1;
    return "cortex-m4";
}

static long long num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

/* 1 when the JSON array of names is exactly the set of ops (as a set). */
static int same_set(const cJSON *names, const char *const *ops, int nops)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, names) {
        int found = 0;
        for (int i = 0; i < nops && !found; i++)
            found = cJSON_IsString(n) && strcmp(n->valuestring, ops[i]) == 0;
        if (!found)
            return 0;
    }
    for (int i = 0; i < nops; i++) {
        int found = 0;
        cJSON_ArrayForEach(n, names) {
            if (cJSON_IsString(n) && strcmp(n->valuestring, ops[i]) == 0)
                found = 1;
        }
        if (!found)
            return 0;
    }
    return 1;
}

/* The op set's "export" figure when it was built with exactly `defines`
 * (the model's exported build), else NULL. */
static const cJSON *export_with(const cJSON *set, const char *defines)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(set, "export");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "defines");
    if (!defines || !cJSON_IsString(d) || strcmp(d->valuestring, defines))
        return NULL;
    return num(e, "text") >= 0 && num(e, "data") >= 0 ? e : NULL;
}

int tml_code_size_for(const char *path, const char *core,
                      const char *const *ops, int nops, const char *defines,
                      tml_code_size *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    const char *mc = measured_core(core, &out->estimate);
    snprintf(out->measured_core, sizeof out->measured_core, "%s", mc);
    cJSON *root = read_json(path, err, err_size);
    if (!root)
        return -1;
    int rc = -1;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "cores"), mc);
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(c, "core");
    const cJSON *kernels = cJSON_GetObjectItemCaseSensitive(c, "kernels");
    if (!base || !kernels) {
        fail(err, err_size, "%s: no measurement for core '%s' (run "
             "scripts/measure_code_size.sh)", path, mc);
        goto done;
    }
    out->interp_bytes = num(c, "sizeof_interpreter");
    out->stack_bytes = num(c, "stack_bytes");
    if (out->interp_bytes < 0 || out->stack_bytes < 0) {
        fail(err, err_size, "%s: core '%s' lacks sizeof_interpreter or "
             "stack_bytes", path, mc);
        goto done;
    }
    /* Several models may share an op set (int8 and hybrid KWS): the one
     * exported with the same defines gives the exported build's figure,
     * else the first gives the op set's (every dtype path, verifier). */
    const cJSON *set, *found = NULL, *exp = NULL;
    cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(c, "op_sets")) {
        if (!same_set(cJSON_GetObjectItemCaseSensitive(set, "ops"), ops,
                      nops))
            continue;
        if (!found)
            found = set;
        if ((exp = export_with(set, defines)) != NULL)
            break;
    }
    if (found) {
        const cJSON *fig = exp ? exp : found;
        out->text = num(fig, "text");
        out->data = num(fig, "data");
        out->bss = num(fig, "bss");
        out->exact = 1;
        out->exported = exp != NULL;
        rc = 0;
        goto done;
    }
    out->text = num(base, "text");
    out->data = num(base, "data");
    out->bss = num(base, "bss");
    for (int i = 0; i < nops; i++) {
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= strcmp(ops[i], ops[j]) == 0;
        if (dup)
            continue;
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(kernels, ops[i]);
        if (!k) {
            fail(err, err_size, "%s: no code size measured for op %s on "
                 "'%s'", path, ops[i], mc);
            goto done;
        }
        out->text += num(k, "text");
        out->data += num(k, "data");
        out->bss += num(k, "bss");
    }
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

/* ---- the source tree ---- */

static int is_source_dir(const char *dir)
{
    char probe[4096 + 32];
    if (strlen(dir) >= 4096)
        return 0;
    snprintf(probe, sizeof probe, "%s/runtime/ops.def", dir);
    return access(probe, R_OK) == 0;
}

int tml_source_dir(char *out, size_t out_size, char *err, size_t err_size)
{
    const char *env = getenv("TINYML_SOURCE");
    if (env && *env) {
        if (!is_source_dir(env))
            return fail(err, err_size, "TINYML_SOURCE=%s is not a tinyml "
                        "source tree (no runtime/ops.def)", env);
        snprintf(out, out_size, "%s", env);
        return 0;
    }
    /* This file is compiled from <source>/tools/lib/boards.c. */
    const char *here = __FILE__;
    const char *tail = strstr(here, "tools/lib/boards.c");
    if (here[0] == '/' && tail && (size_t)(tail - here) < out_size) {
        snprintf(out, out_size, "%.*s", (int)(tail - here - 1), here);
        if (is_source_dir(out))
            return 0;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        for (int up = 0; up < 2; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = '\0';
            if (is_source_dir(exe) && strlen(exe) < out_size) {
                snprintf(out, out_size, "%s", exe);
                return 0;
            }
        }
    }
    return fail(err, err_size, "cannot find the tinyml source tree (set "
                "TINYML_SOURCE to the directory holding runtime/ and "
                "boards/)");
}
