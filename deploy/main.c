/* One inference of the exported model on the board (generated project of
 * `tinyml export --project`; source: tinyml's deploy/main.c).
 *
 * Input: test_data.c's tml_test_input when the project was exported with
 * --test-input, otherwise the golden manifests' generator with seed 1 (the
 * same LCG as `tinyml run --random --seed 1`).  When test_data.c holds an
 * expected output (--test-output), every output byte is compared and the
 * program prints PASS or FAIL and exits 0 only on PASS (semihosting exit:
 * qemu's status).  Set TML_INVOKES to invoke more than once (used to count
 * instructions per invoke).
 *
 * This file counts in the runtime's code-size figure (the program minus
 * the same program without the runtime), so it is kept small: every line
 * is built in one buffer by two helpers and written with one semihosting
 * call. */
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
/* The longest line: "output N (N bytes):", 32 bytes in hex and " ..\n"
 * (139 characters); runtime messages are not copied here. */
static char line[48 + 32 * 3];

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_dec(char *p, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        *p++ = digits[--n];
    return p;
}

/* Ends the line at p with end ("\n" or "\nFAIL\n") and writes it. */
static void say(char *p, const char *end)
{
    *put_str(p, end) = '\0';
    sh_write0(line);
}

/* "LABEL V" as one line. */
static void say_u32(const char *label, uint32_t v)
{
    say(put_dec(put_str(line, label), v), "\n");
}

/* "tinyml: WHAT: DETAIL" (NULL: the runtime's message), FAIL; returns 1
 * (main's status). */
static int fail(const char *what, const char *detail)
{
    /* The runtime's message (up to TML_ERROR_SIZE) is written as is. */
    say(put_str(put_str(line, "tinyml: "), what), ": ");
    sh_write0(detail ? detail : tml_error(&interp));
    sh_write0("\nFAIL\n");
    return 1;
}

/* Bytes of input (or output) i; *is_float: its dtype is float32.  A
 * build without float kernels has only integer inputs and outputs, and
 * needs no tml_tensor_info. */
static size_t io_bytes(int input, int32_t i, int *is_float)
{
#ifdef TML_NO_FLOAT_KERNELS
    *is_float = 0;
    return input ? tml_input_bytes(&interp, i) : tml_output_bytes(&interp, i);
#else
    tml_tensor_info info;
    tml_status s = input ? tml_input_details(&interp, i, &info)
                         : tml_output_details(&interp, i, &info);
    *is_float = s == TML_OK && info.dtype == TML_FLOAT32;
    return s == TML_OK ? info.bytes : 0;
#endif
}

/* Fills every input: the test input's bytes in order, or the LCG. */
static int fill_inputs(void)
{
    size_t offset = 0;
    uint32_t state = 1;
    for (int32_t i = 0; i < tml_input_count(&interp); i++) {
        int is_float;
        size_t bytes = io_bytes(1, i, &is_float);
        uint8_t *data = tml_input_data(&interp, i);
        if (!data)
            return fail("input", NULL);
#if TML_HAVE_TEST_INPUT
        if (offset + bytes > TML_TEST_INPUT_LEN)
            return fail("test input", "too short");
        memcpy(data, tml_test_input + offset, bytes);
        offset += bytes;
#else
        size_t n = is_float ? bytes / 4 : bytes;
        for (size_t k = 0; k < n; k++) {
            state = state * 1664525u + 1013904223u;
            if (is_float) {
                float v = (float)(state >> 8) * (1.0f / 8388608.0f) - 1.0f;
                memcpy(data + 4 * k, &v, 4);
            } else {
                data[k] = (uint8_t)((int32_t)(state >> 24) - 128);
            }
        }
#endif
        (void)is_float;
    }
    (void)offset;
    (void)state;
    return 0;
}

#if TML_HAVE_TEST_OUTPUT && !defined(TML_NO_FLOAT_KERNELS)
/* tinyml's float contract (as tests/runtime/test_goldens.c): the largest
 * absolute difference is at most 1e-5 of the largest expected magnitude;
 * int8 outputs must be byte-identical.  (A build without float kernels
 * has no float32 output.) */
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

/* "output 0 (12 bytes): 80 80 7f ..." (the first 32 bytes). */
static void print_output(int32_t i, const uint8_t *data, size_t bytes)
{
    static const char hex[] = "0123456789abcdef";
    char *p = put_dec(put_str(line, "output "), (uint32_t)i);
    p = put_str(put_dec(put_str(p, " ("), (uint32_t)bytes), " bytes):");
    for (size_t k = 0; k < bytes && k < 32; k++) {
        *p++ = ' ';
        *p++ = hex[data[k] >> 4];
        *p++ = hex[data[k] & 15];
    }
    say(p, bytes > 32 ? " ..\n" : "\n");
}

/* Prints every output and compares it with the expected output, in order
 * (float32 outputs: within 1e-5 relative); 0 on PASS. */
static int check_outputs(void)
{
    size_t offset = 0;
    int approx = 0;
    for (int32_t i = 0; i < tml_output_count(&interp); i++) {
        int is_float;
        size_t bytes = io_bytes(0, i, &is_float);
        const uint8_t *data = tml_output_data(&interp, i);
        if (!data)
            return fail("output", NULL);
        print_output(i, data, bytes);
#if TML_HAVE_TEST_OUTPUT
        if (offset + bytes > TML_TEST_OUTPUT_LEN)
            return fail("expected output", "too short");
        size_t k = 0;
        while (k < bytes && data[k] == tml_test_output[offset + k])
            k++;
#ifndef TML_NO_FLOAT_KERNELS
        /* (The length test lets the compiler drop the call when the
         * expected output is too short to hold a float.) */
        if (TML_TEST_OUTPUT_LEN >= 4 && k < bytes && is_float &&
            float_close(data, tml_test_output + offset, bytes / 4)) {
            approx = 1;
            k = bytes;
        }
#endif
        if (k < bytes) {
            say(put_dec(put_str(line, "tinyml: output differs at byte "),
                        (uint32_t)(offset + k)), "\nFAIL\n");
            return 1;
        }
#endif
        (void)is_float;
        offset += bytes;
    }
#if TML_HAVE_TEST_OUTPUT
    if (offset != TML_TEST_OUTPUT_LEN)
        return fail("expected output", "too long");
    say_u32(approx ? "outputs match (float32 within 1e-5 relative, not "
                     "byte-identical), bytes: "
                   : "outputs byte-identical, bytes: ", (uint32_t)offset);
    sh_write0("PASS\n");
#else
    sh_write0("done (no expected output to compare)\n");
#endif
    (void)approx;
    return 0;
}

int main(void)
{
    sh_write0("tinyml: " TML_MODEL_NAME " on " TML_BOARD_NAME "\n");
    if (tml_create(&interp, tml_model_data, TML_MODEL_DATA_LEN, arena,
                   sizeof arena) != TML_OK)
        return fail("create", NULL);
    if (tml_allocate(&interp) != TML_OK)
        return fail("allocate", NULL);
    say_u32("arena bytes used: ", (uint32_t)tml_arena_needed(&interp));
    say_u32("arena bytes reserved: ", (uint32_t)sizeof arena);
    if (fill_inputs() != 0)
        return 1;
    for (int n = 0; n < TML_INVOKES; n++) {
        if (tml_invoke(&interp) != TML_OK)
            return fail("invoke", NULL);
    }
    say_u32("stack bytes used: ", tml_stack_used());
    return check_outputs();
}
