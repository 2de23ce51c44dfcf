/*
 * libFuzzer target: the whole runtime on hostile models -- tml_verify,
 * tml_create, tml_allocate, and tml_invoke on inputs taken from the model
 * bytes.  Kernels' prepare must refuse what their eval cannot handle, and
 * every refusal must be one line.
 *
 * Not part of scripts/fuzz_smoke.sh by default (FUZZ_TARGET=fuzz_interp
 * selects it): findings here are in kernels and the interpreter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tinyml/tinyml.h"

static void check_message(const char *msg)
{
    if (!msg[0] || strchr(msg, '\n') || strchr(msg, '\r'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tml_interpreter it;
    static _Alignas(16) uint8_t arena[512 * 1024];
    static _Alignas(16) uint8_t input[64 * 1024];
    char msg[TML_ERROR_SIZE];
    uint8_t *copy = aligned_alloc(16, (size + 16) & ~(size_t)15);

    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    if (tml_verify(copy, size, msg, sizeof msg) != TML_OK) {
        check_message(msg);
        free(copy);
        return 0;
    }
    tml_status st = tml_create(&it, copy, size, arena, sizeof arena);
    if (st == TML_OK)
        st = tml_allocate(&it);
    for (int32_t i = 0; st == TML_OK && i < tml_input_count(&it); i++) {
        tml_tensor_info info;
        st = tml_input_details(&it, i, &info);
        if (st != TML_OK || info.bytes > sizeof input)
            break;
        /* Deterministic input bytes: the model's own first bytes. */
        memset(input, 0, info.bytes);
        memcpy(input, copy, info.bytes < size ? info.bytes : size);
        st = tml_set_input(&it, i, input, info.bytes);
    }
    if (st == TML_OK)
        st = tml_invoke(&it);
    if (st != TML_OK)
        check_message(tml_error(&it));
    free(copy);
    return 0;
}
