/*
 * The board database (boards/boards.json, or the user's file) and the
 * runtime's measured code size per core (boards/code_size.json, written by
 * scripts/measure_code_size.sh).  Formats: boards/README.md.
 */
#ifndef TML_BOARDS_H
#define TML_BOARDS_H

#include <stddef.h>
#include <stdint.h>

typedef struct tml_board {
    char name[64];
    char aliases[256];      /* "|alias1|alias2|" */
    char mcu[96];
    char core[32];          /* "cortex-m4", "xtensa-lx7", ... */
    char fpu[16];           /* "none", "fpv4-sp", "fpv5-sp", "fpv5-dp" */
    char qemu_machine[32];  /* "" unless emulated */
    double clock_mhz;
    long long ram_bytes;
    long long flash_bytes;
    long long flash_origin; /* default 0x00000000 */
    long long ram_origin;   /* default 0x20000000 */
    int emulated;
} tml_board;

typedef struct tml_boards {
    tml_board *items;
    int count;
} tml_boards;

/* Reads and checks a board file.  0, or -1 with one line in err. */
int tml_boards_load(const char *path, tml_boards *out, char *err,
                    size_t err_size);
void tml_boards_free(tml_boards *b);

/* By name or alias; case-insensitive, '-' and '_' equal.  NULL if none. */
const tml_board *tml_boards_find(const tml_boards *b, const char *name);

/* The code size a core's build of the runtime adds for a set of ops. */
typedef struct tml_code_size {
    long long text, data, bss;  /* runtime + kernels, with gc-sections */
    long long interp_bytes;     /* sizeof(tml_interpreter) on that core */
    long long stack_bytes;      /* measured stack high-water mark */
    int exact;                  /* 1: this op set was linked and measured;
                                   0: core + sum of per-kernel figures (an
                                   upper bound: shared code counted twice) */
    int exported;               /* 1: the op set as `tinyml export
                                   --project` builds it with the model's
                                   defines (no verifier: -DTML_TRUSTED_MODEL);
                                   0: every dtype path and the verifier (an
                                   upper bound, e.g. for models loaded at
                                   run time) */
    char measured_core[32];     /* the core whose build gave the figures */
    int estimate;               /* 1: no build for this core (non-Arm) */
} tml_code_size;

/* ops: op names ("CONV_2D"), nops of them (duplicates allowed); defines:
 * the exported project's defines for the model (tml_export_defines), or
 * NULL for the upper bound.  0, or -1 with one line in err (unreadable
 * file, op without a measured kernel). */
int tml_code_size_for(const char *path, const char *core,
                      const char *const *ops, int nops, const char *defines,
                      tml_code_size *out, char *err, size_t err_size);

/* The tinyml source tree (for boards/, deploy/, runtime/): $TINYML_SOURCE,
 * else the tree this file was compiled from, else the executable's
 * directory's parent.  0, or -1 with one line in err. */
int tml_source_dir(char *out, size_t out_size, char *err, size_t err_size);

#endif
