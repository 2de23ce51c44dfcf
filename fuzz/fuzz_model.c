/*
 * libFuzzer target: the flatbuffer verifier and the verified model view.
 *
 * Any input must either be rejected with one non-empty line, or load and
 * then survive a walk through every accessor and option reader (ASan and
 * UBSan catch what the verifier let through).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* Aborts (a finding) when a rejection message is not one line. */
static void check_message(const char *msg)
{
    if (!msg[0] || strchr(msg, '\n') || strchr(msg, '\r'))
        abort();
}

static uint64_t walk_tensors(const tml_model *m)
{
    uint64_t sink = 0;
    for (int32_t i = 0; i < m->ntensors; i++) {
        tml_model_tensor t;
        tml_model_get_tensor(m, i, &t);
        sink += strlen(t.name) + t.bytes;
        for (int32_t d = 0; d < t.ndims; d++) {
            if (t.dims[d] < 0)
                abort();   /* verified: dims are never negative */
            sink += (uint32_t)t.dims[d];
        }
        for (int32_t c = 0; t.scales && c < t.nscales; c++) {
            uint32_t bits;
            memcpy(&bits, &t.scales[c], 4);
            sink += bits + (t.zero_points ? (uint64_t)t.zero_points[c] : 0);
        }
        if (t.data) {
            if (t.data_size != t.bytes)
                abort();
            if (t.data_size)
                sink += t.data[0] + t.data[t.data_size - 1];
        }
    }
    return sink;
}

static uint64_t walk_options(const tml_model *m, uint32_t options)
{
    uint64_t sink = 0;
    for (int f = 0; f < 16; f++) {
        static const size_t sizes[4] = { 1, 2, 4, 8 };
        for (int s = 0; s < 4; s++) {
            const uint8_t *p = tml_model_table_field(m, options, f, sizes[s]);
            if (p)
                sink += p[0] + p[sizes[s] - 1];
        }
        const int32_t *v = NULL;
        int32_t n = tml_model_table_int_vector(m, options, f, &v);
        for (int32_t k = 0; k < n; k++)
            sink += (uint32_t)v[k];
    }
    return sink;
}

static uint64_t walk_ops(const tml_model *m)
{
    uint64_t sink = 0;
    for (int32_t i = 0; i < m->nops; i++) {
        tml_model_op op;
        tml_model_get_op(m, i, &op);
        if (op.version < 1)
            abort();
        for (int32_t k = 0; k < op.ninputs; k++) {
            if (op.inputs[k] < -1 || op.inputs[k] >= m->ntensors)
                abort();
            sink += (uint32_t)op.inputs[k];
        }
        for (int32_t k = 0; k < op.noutputs; k++) {
            if (op.outputs[k] < 0 || op.outputs[k] >= m->ntensors)
                abort();
            sink += (uint32_t)op.outputs[k];
        }
        if (op.custom_name)
            sink += strlen(op.custom_name);
        if (op.options)
            sink += walk_options(m, op.options);
    }
    return sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The runtime needs a 4-aligned model (16 like TFLite's files); a
     * fresh malloc'd copy also lets ASan see reads past the end. */
    uint8_t *copy = aligned_alloc(16, (size + 16) & ~(size_t)15);
    char err[192];
    tml_model m;
    volatile uint64_t sink = 0;

    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    tml_status st = tml_model_load(&m, copy, size, err, sizeof err);
    if (st != TML_OK) {
        check_message(err);
    } else {
        sink += walk_tensors(&m) + walk_ops(&m);
        for (int32_t i = 0; i < m.ninputs; i++)
            sink += (uint32_t)tml_model_inputs(&m)[i];
        for (int32_t i = 0; i < m.noutputs; i++)
            sink += (uint32_t)tml_model_outputs(&m)[i];
        sink += strlen(tml_model_description(&m));
    }
    (void)sink;
    free(copy);
    return 0;
}
