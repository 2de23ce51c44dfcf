/* One inference of the exported model on the board (generated project of
 * `tinyml export --project`; source: tinyml's deploy/main.c).
 *
 * Input: test_data.c's tml_test_input when the project was exported with
 * --test-input, otherwise the golden manifests' generator with seed 1 (the
 * same LCG as `tinyml run --random --seed 1`).  When test_data.c holds an
 * expected output (--test-output), every output byte is compared and the
 * program prints PASS or FAIL and exits 0 only on PASS (semihosting exit:
 * qemu's status).  Set TML_INVOKES to invoke more than once (used to count
 * instructions per invoke). */
#include <stdint.h>
#include <string.h>

#include "model_data.h"
#include "semihost.h"
#include "test_data.h"
#include "tinyml/tinyml.h"

#ifndef TML_BOARD_NAME
#define TML_BOARD_NAME "the board"
#endif
#ifndef TML_INVOKES
#define TML_INVOKES 1
#endif

uint32_t tml_stack_used(void);

static tml_interpreter interp;
static uint8_t arena[TML_MODEL_ARENA_BYTES] __attribute__((aligned(16)));

/* label, v in decimal, end ("\n" for a line). */
static void put_num(const char *label, uint32_t v, const char *end)
{
    char digits[12];
    int k = (int)sizeof digits - 1;
    digits[k] = '\0';
    do {
        digits[--k] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    sh_write0(label);
    sh_write0(digits + k);
    sh_write0(end);
}

static void put_u32(const char *label, uint32_t v)
{
    put_num(label, v, "\n");
}

/* "output 0 (12 bytes): 80 80 7f ..." (the first 32 bytes). */
static void put_output(int32_t index, const uint8_t *data, size_t bytes)
{
    static const char hex[] = "0123456789abcdef";
    char line[32 * 3 + 8];
    size_t n = 0;
    put_num("output ", (uint32_t)index, "");
    put_num(" (", (uint32_t)bytes, " bytes):");
    for (size_t k = 0; k < bytes && k < 32; k++) {
        line[n++] = ' ';
        line[n++] = hex[data[k] >> 4];
        line[n++] = hex[data[k] & 15];
    }
    if (bytes > 32) {
        line[n++] = ' ';
        line[n++] = '.';
        line[n++] = '.';
    }
    line[n++] = '\n';
    line[n] = '\0';
    sh_write0(line);
}

static int fail(const char *what)
{
    sh_write0("tinyml: ");
    sh_write0(what);
    sh_write0(": ");
    sh_write0(tml_error(&interp));
    sh_write0("\nFAIL\n");
    return 1;
}

/* Fills every input: the test input's bytes in order, or the LCG. */
static int fill_inputs(void)
{
    size_t offset = 0;
    uint32_t state = 1;
    for (int32_t i = 0; i < tml_input_count(&interp); i++) {
        tml_tensor_info info;
        uint8_t *data = tml_input_data(&interp, i);
        if (tml_input_details(&interp, i, &info) != TML_OK || !data)
            return fail("input details");
#if TML_HAVE_TEST_INPUT
        if (offset + info.bytes > TML_TEST_INPUT_LEN) {
            sh_write0("tinyml: test input is shorter than the model's inputs"
                      "\nFAIL\n");
            return 1;
        }
        memcpy(data, tml_test_input + offset, info.bytes);
        offset += info.bytes;
#else
        size_t n = info.dtype == TML_FLOAT32 ? info.bytes / 4 : info.bytes;
        for (size_t k = 0; k < n; k++) {
            state = state * 1664525u + 1013904223u;
            if (info.dtype == TML_FLOAT32) {
                float v = (float)(state >> 8) * (1.0f / 8388608.0f) - 1.0f;
                memcpy(data + 4 * k, &v, 4);
            } else {
                data[k] = (uint8_t)((int32_t)(state >> 24) - 128);
            }
        }
#endif
    }
    (void)offset;
    (void)state;
    return 0;
}

#if TML_HAVE_TEST_OUTPUT
/* tinyml's float contract (as tests/runtime/test_goldens.c): the largest
 * absolute difference is at most 1e-5 of the largest expected magnitude;
 * int8 outputs must be byte-identical. */
static int float_close(const uint8_t *got, const uint8_t *want, size_t n)
{
    float max_diff = 0.0f, max_ref = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a, b;
        memcpy(&a, got + 4 * i, 4);
        memcpy(&b, want + 4 * i, 4);
        float d = a > b ? a - b : b - a;
        float m = b < 0.0f ? -b : b;
        if (!(d <= max_diff))
            max_diff = d;   /* NaN differences stay and fail below */
        if (m > max_ref)
            max_ref = m;
    }
    return max_diff <= 1e-5f * max_ref;
}
#endif

/* 0 when every output byte equals the expected output, in order (float32
 * outputs: within 1e-5 relative). */
static int compare_outputs(void)
{
#if TML_HAVE_TEST_OUTPUT
    size_t offset = 0;
    int approx = 0;
    for (int32_t i = 0; i < tml_output_count(&interp); i++) {
        tml_tensor_info info;
        const uint8_t *data = tml_output_data(&interp, i);
        if (tml_output_details(&interp, i, &info) != TML_OK || !data)
            return fail("output details");
        if (offset + info.bytes > TML_TEST_OUTPUT_LEN) {
            sh_write0("tinyml: expected output is shorter than the model's "
                      "outputs\nFAIL\n");
            return 1;
        }
        size_t k = 0;
        while (k < info.bytes && data[k] == tml_test_output[offset + k])
            k++;
        /* (The length test lets the compiler drop the call when the
         * expected output is too short to hold a float.) */
        if (TML_TEST_OUTPUT_LEN >= 4 && k < info.bytes &&
            info.dtype == TML_FLOAT32 &&
            float_close(data, tml_test_output + offset, info.bytes / 4)) {
            approx = 1;
            k = info.bytes;
        }
        if (k < info.bytes) {
            put_u32("tinyml: output differs at byte ", (uint32_t)(offset + k));
            sh_write0("FAIL\n");
            return 1;
        }
        offset += info.bytes;
    }
    if (offset != TML_TEST_OUTPUT_LEN) {
        sh_write0("tinyml: expected output is longer than the model's "
                  "outputs\nFAIL\n");
        return 1;
    }
    put_u32(approx ? "outputs match (float32 within 1e-5 relative, not "
                     "byte-identical), bytes: "
                   : "outputs byte-identical, bytes: ", (uint32_t)offset);
    sh_write0("PASS\n");
#else
    sh_write0("done (no expected output to compare)\n");
#endif
    return 0;
}

int main(void)
{
    sh_write0("tinyml: " TML_MODEL_NAME " on " TML_BOARD_NAME "\n");
    if (tml_create(&interp, tml_model_data, TML_MODEL_DATA_LEN, arena,
                   sizeof arena) != TML_OK)
        return fail("create");
    if (tml_allocate(&interp) != TML_OK)
        return fail("allocate");
    put_u32("arena bytes used: ", (uint32_t)tml_arena_needed(&interp));
    put_u32("arena bytes reserved: ", (uint32_t)sizeof arena);
    if (fill_inputs() != 0)
        return 1;
    for (int n = 0; n < TML_INVOKES; n++) {
        if (tml_invoke(&interp) != TML_OK)
            return fail("invoke");
    }
    put_u32("stack bytes used: ", tml_stack_used());
    for (int32_t i = 0; i < tml_output_count(&interp); i++) {
        tml_tensor_info info;
        const uint8_t *data = tml_output_data(&interp, i);
        if (tml_output_details(&interp, i, &info) == TML_OK && data)
            put_output(i, data, info.bytes);
    }
    return compare_outputs();
}
