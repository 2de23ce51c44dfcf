/*
 * tinyml export: the model as a C array (model_data.c/.h), and a
 * self-contained make + arm-none-eabi-gcc project for one board (runtime
 * sources with only the model's kernels, a generated op list, deploy/'s
 * start-up, linker script and main.c).
 */
#ifndef TML_PROJECT_EXPORT_H
#define TML_PROJECT_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "tools/lib/boards.h"

typedef struct tml_export_model {
    const uint8_t *bytes;
    size_t size;
    const char *name;         /* C-string-safe stem: "kws_ref_model" */
    size_t arena_bytes;       /* tml_arena_needed() on this host */
} tml_export_model;

/* The defines an exported project's Makefile adds after -DTML_NO_OP_NAMES
 * for this model, space separated ("-DTML_NO_FLOAT_KERNELS -DTML_NO_HYBRID
 * -DTML_TRUSTED_MODEL"), exactly as scripts/measure_code_size.sh records
 * them in boards/code_size.json (op_sets[].export.defines), so that
 * `tinyml fit` finds the exported build's figure.  0, or -1 with one line
 * (the model does not load). */
int tml_export_defines(const tml_export_model *m, int verify_on_device,
                       char *out, size_t out_size, char *err,
                       size_t err_size);

/* Writes DIR/model_data.c and DIR/model_data.h (creating DIR). */
int tml_export_c_array(const char *dir, const tml_export_model *m, char *err,
                       size_t err_size);

typedef struct tml_export_project {
    const char *dir;
    const char *source_dir;    /* the tinyml tree: runtime/, deploy/ */
    const tml_board *board;
    const tml_export_model *model;
    const int32_t *builtins;   /* op codes the model uses (duplicates ok) */
    int nbuiltins;
    const uint8_t *test_input;   /* NULL: the seed-1 generator */
    size_t test_input_size;
    const uint8_t *test_output;  /* NULL: no comparison */
    size_t test_output_size;
    long long stack_bytes;       /* stack to reserve in the linker script */
    int verify_on_device;        /* 0: -DTML_TRUSTED_MODEL (the default:
                                    the exporter verified the model) */
} tml_export_project;

/* The compiler flags for a board's core and FPU; NULL for a core
 * arm-none-eabi-gcc does not target (Xtensa, RISC-V). */
const char *tml_export_cpu_flags(const tml_board *b);

/* Verifies the model in full (tml_verify: the whole flatbuffer and every
 * op against this runtime) before writing anything; the project's device
 * build then trusts those bytes (-DTML_TRUSTED_MODEL, runtime/model.h:
 * "verify once") unless p->verify_on_device.  0, or -1 with one line. */
int tml_export_project_write(const tml_export_project *p, char *err,
                             size_t err_size);

#endif
