/*
 * Test helper for test_hybrid_kws.sh: runs a model over a batch of raw
 * float32 inputs through the public API and writes the raw float32
 * outputs.
 *
 *   hybrid_driver MODEL IN.f32 COUNT OUT.f32
 *
 * IN.f32 holds COUNT inputs back to back, each the byte size of input 0;
 * OUT.f32 gets COUNT copies of output 0's bytes.  Exit 0 on success; on
 * failure one line on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyml/tinyml.h"
#include "tools/lib/file_io.h"

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "hybrid_driver: %s: %s\n", what, detail);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return fail("usage", "hybrid_driver MODEL IN.f32 COUNT OUT.f32");
    char err[256];
    size_t model_size = 0, in_size = 0;
    void *model = tml_read_file(argv[1], &model_size, err, sizeof err);
    if (!model)
        return fail(argv[1], err);
    void *inputs = tml_read_file(argv[2], &in_size, err, sizeof err);
    if (!inputs)
        return fail(argv[2], err);
    long count = strtol(argv[3], NULL, 10);

    static tml_interpreter it;
    size_t arena_size = 4u << 20;
    void *arena = aligned_alloc(16, arena_size);
    if (tml_create(&it, model, model_size, arena, arena_size) != TML_OK ||
        tml_allocate(&it) != TML_OK)
        return fail("load", tml_error(&it));
    tml_tensor_info in_info, out_info;
    tml_input_details(&it, 0, &in_info);
    tml_output_details(&it, 0, &out_info);
    if (count <= 0 || in_size != (size_t)count * in_info.bytes)
        return fail(argv[2], "size is not COUNT inputs of input 0's bytes");
    unsigned char *outputs = malloc((size_t)count * out_info.bytes);
    for (long i = 0; i < count; i++) {
        const unsigned char *x = (const unsigned char *)inputs +
                                 (size_t)i * in_info.bytes;
        if (tml_set_input(&it, 0, x, in_info.bytes) != TML_OK ||
            tml_invoke(&it) != TML_OK ||
            tml_get_output(&it, 0, outputs + (size_t)i * out_info.bytes,
                           out_info.bytes) != TML_OK)
            return fail("invoke", tml_error(&it));
    }
    if (tml_write_file_atomic(argv[4], outputs,
                              (size_t)count * out_info.bytes, err,
                              sizeof err) != 0)
        return fail(argv[4], err);
    free(outputs);
    free(arena);
    free(inputs);
    free(model);
    return 0;
}
