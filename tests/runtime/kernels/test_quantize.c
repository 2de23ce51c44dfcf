/*
 * QUANTIZE and DEQUANTIZE: the math layer on hand-traced values and on
 * independent formulas over whole input ranges, then single-op models
 * through the public API (values and prepare-time error messages).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "kernels/activations.h"
#include "kernels/logistic_tanh.h"
#include "kernels/quantize.h"
#include "op_checks.h"
#include "test_util.h"

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ------------------------------------------------------ AffineQuantize */

static void test_quantize_value_rounds_half_away_and_clamps(void **state)
{
    (void)state;
    /* scale 0.5, zero point -3: v / 0.5 is exact for these inputs. */
    assert_int_equal(tml_quantize_value(1.25f, 0.5f, -3, -128, 127), 0);    /* 2.5 -> 3 */
    assert_int_equal(tml_quantize_value(-1.25f, 0.5f, -3, -128, 127), -6);  /* -2.5 -> -3 */
    assert_int_equal(tml_quantize_value(0.74f, 0.5f, -3, -128, 127), -2);   /* 1.48 -> 1 */
    assert_int_equal(tml_quantize_value(-0.74f, 0.5f, -3, -128, 127), -4);
    assert_int_equal(tml_quantize_value(0.0f, 0.5f, -3, -128, 127), -3);
    assert_int_equal(tml_quantize_value(65.0f, 0.5f, -3, -128, 127), 127);  /* 130-3 */
    assert_int_equal(tml_quantize_value(64.5f, 0.5f, -3, -128, 127), 126);  /* 129-3 */
    assert_int_equal(tml_quantize_value(-62.5f, 0.5f, -3, -128, 127), -128);/* -125-3 */
    assert_int_equal(tml_quantize_value(-62.0f, 0.5f, -3, -128, 127), -127);
    assert_int_equal(tml_quantize_value(-100.0f, 0.5f, -3, -128, 127), -128);
    /* Past int32 saturates; NaN gives the zero point. */
    assert_int_equal(tml_quantize_value(INFINITY, 0.5f, -3, -128, 127), 127);
    assert_int_equal(tml_quantize_value(-INFINITY, 0.5f, -3, -128, 127), -128);
    assert_int_equal(tml_quantize_value(3e38f, 1e-3f, 100, -128, 127), 127);
    assert_int_equal(tml_quantize_value(NAN, 0.5f, -3, -128, 127), -3);
    /* int16 range. */
    assert_int_equal(tml_quantize_value(10000.0f, 0.5f, -3, INT16_MIN, INT16_MAX), 19997);
    assert_int_equal(tml_quantize_value(20000.0f, 0.5f, 0, INT16_MIN, INT16_MAX), 32767);
    /* The division is in float: 0.3f / 0.1f = 3.0000001 in float -> 3. */
    assert_int_equal(tml_quantize_value(0.3f, 0.1f, 0, -128, 127), 3);
}

/* Against an independent float formula over many values: the reference
 * computes round(v / scale) in float, so the same float division then
 * C99 roundf must agree exactly. */
static void test_quantize_matches_roundf_formula(void **state)
{
    (void)state;
    const float scales[] = { 0.00390625f, 0.0123f, 0.1f, 0.75f, 3.3f };
    const int32_t zps[] = { -128, -7, 0, 33, 127 };
    for (int s = 0; s < 5; s++) {
        for (int k = -40000; k <= 40000; k += 7) {
            float v = (float)k * 0.0137f;
            float r = roundf(v / scales[s]);
            double e = (double)r + zps[s];
            int32_t want = e < -128 ? -128 : (e > 127 ? 127 : (int32_t)e);
            assert_int_equal(tml_quantize_value(v, scales[s], zps[s], -128, 127),
                             want);
        }
    }
}

static void test_quantize_f32_arrays(void **state)
{
    (void)state;
    const float in[6] = { 1.25f, -1.25f, 0.74f, 100.0f, -100.0f, 0.0f };
    int8_t out8[6];
    int16_t out16[6];
    const int8_t want8[6] = { 0, -6, -2, 127, -128, -3 };
    const int16_t want16[6] = { 3, -3, 1, 200, -200, 0 };   /* scale 0.5, zp 0 */
    tml_quantize_f32_s8(in, out8, 6, 0.5f, -3);
    assert_memory_equal(out8, want8, sizeof want8);
    tml_quantize_f32_s16(in, out16, 6, 0.5f, 0);
    assert_memory_equal(out16, want16, sizeof want16);
}

/* ----------------------------------------------------------- Requantize */

static void test_requant_hand_traced(void **state)
{
    (void)state;
    tml_requant_params p;
    /* Ratio 2 (0.5 / 0.25): multiplier 2^30, shift 2, exact doubling. */
    tml_requant_init(&p, 0.5f, 1, 0.25f, -2, INT8_MIN, INT8_MAX);
    assert_int_equal(p.multiplier, 1 << 30);
    assert_int_equal(p.shift, 2);
    assert_int_equal(tml_requant(&p, 11), 18);      /* 10 * 2 - 2 */
    assert_int_equal(tml_requant(&p, 1), -2);
    assert_int_equal(tml_requant(&p, 65), 126);     /* 64 * 2 - 2 */
    assert_int_equal(tml_requant(&p, 66), 127);     /* 128 clamps */
    assert_int_equal(tml_requant(&p, -62), -128);   /* -126 - 2 */
    assert_int_equal(tml_requant(&p, -61), -126);

    /* Ratio 1/4: multiplier 2^30, shift -1.  TFLite rounds twice (the
     * doubling high multiply, then the rounding shift), halves away from
     * zero each time:
     *   2 * 1/4 = 0.5:  srdhm(2, 2^30) = 1, rdbpot(1, 1) = 1
     *   5 * 1/4 = 1.25: srdhm(5, 2^30) = round(2.5) = 3, rdbpot(3, 1) = 2
     *                   (a single rounding would give 1)
     *   6 * 1/4 = 1.5:  srdhm = 3, rdbpot(3, 1) = 2
     * gemmlowp's nudge for a negative product is 1 - 2^30, so there the
     * high multiply rounds halves toward zero:
     *   -5 * 1/4: srdhm(-5, 2^30) = trunc(-3 + 2^-31) = -2, rdbpot(-2, 1) = -1
     *   -2 * 1/4: srdhm = trunc(-1.5 + 2^-31) = -1, rdbpot(-1, 1) = -1 */
    tml_requant_init(&p, 0.25f, 0, 1.0f, 0, INT8_MIN, INT8_MAX);
    assert_int_equal(p.multiplier, 1 << 30);
    assert_int_equal(p.shift, -1);
    assert_int_equal(tml_requant(&p, 2), 1);
    assert_int_equal(tml_requant(&p, 5), 2);
    assert_int_equal(tml_requant(&p, 6), 2);
    assert_int_equal(tml_requant(&p, -5), -1);
    assert_int_equal(tml_requant(&p, -2), -1);
    assert_int_equal(tml_requant(&p, 3), 1);        /* 0.75: srdhm 2, rdbpot 1 */
    assert_int_equal(tml_requant(&p, 1), 1);        /* 0.25: srdhm 1, rdbpot 1 */
    assert_int_equal(tml_requant(&p, -1), 0);       /* srdhm 0 */
}

static void test_requant_within_one_of_exact(void **state)
{
    (void)state;
    const float in_scales[] = { 0.02f, 0.1f, 0.0078125f, 1.7f };
    const float out_scales[] = { 0.05f, 0.1f, 0.0039f, 0.33f };
    for (int a = 0; a < 4; a++) {
        for (int b = 0; b < 4; b++) {
            tml_requant_params p;
            tml_requant_init(&p, in_scales[a], 5, out_scales[b], -9,
                             INT8_MIN, INT8_MAX);
            for (int x = -128; x <= 127; x++) {
                double r = (double)(x - 5) * in_scales[a] / out_scales[b];
                double q = (r < 0 ? -floor(-r + 0.5) : floor(r + 0.5)) - 9;
                q = q < -128 ? -128 : (q > 127 ? 127 : q);
                int32_t got = tml_requant(&p, x);
                assert_true(got >= -128 && got <= 127);
                assert_true(fabs(got - q) <= 1.0);
            }
        }
    }
}

static void test_requant_unsupported_ratio(void **state)
{
    (void)state;
    tml_requant_params p;
    /* 2^30 and above would shift left by more than 30 bits. */
    assert_int_equal(tml_requant_init(&p, 1.0f, 0, ldexpf(1.0f, -30), 0,
                                      INT8_MIN, INT8_MAX), -1);
    assert_int_equal(tml_requant_init(&p, 1.0f, 0, ldexpf(1.0f, -29), 0,
                                      INT8_MIN, INT8_MAX), 0);
    assert_int_equal(p.shift, 30);
}

static void test_requant_int8_uint8_is_xor_0x80(void **state)
{
    (void)state;
    tml_requant_params p;
    tml_requant_init(&p, 0.3f, -128, 0.3f, 0, 0, 255);
    for (int x = -128; x <= 127; x++)
        assert_int_equal(tml_requant(&p, x), (uint8_t)((uint8_t)x ^ 0x80));
    tml_requant_init(&p, 0.3f, 0, 0.3f, -128, INT8_MIN, INT8_MAX);
    for (int x = 0; x <= 255; x++)
        assert_int_equal(tml_requant(&p, x), (int8_t)(uint8_t)(x ^ 0x80));
}

/* ------------------------------------------------------------ Dequantize */

static void test_dequantize_bits_equal_double_formula(void **state)
{
    (void)state;
    /* TFLite: (float)((double)scale * (x - zero_point)).  Every bit. */
    const float scales[] = { 0.1f, 0.0039215689f, 1e-30f, 3.0e36f, 0.7f };
    const int32_t zps[] = { 3, -128, 0, 127, -17 };
    for (int s = 0; s < 5; s++) {
        int8_t in8[256];
        uint8_t inu[256];
        float out8[256], outu[256];
        for (int i = 0; i < 256; i++) {
            in8[i] = (int8_t)(i - 128);
            inu[i] = (uint8_t)i;
        }
        tml_dequantize_s8(in8, out8, 256, scales[s], zps[s]);
        tml_dequantize_u8(inu, outu, 256, scales[s], zps[s] + 128);
        for (int i = 0; i < 256; i++) {
            float want = (float)((double)scales[s] * (double)(in8[i] - zps[s]));
            assert_int_equal(float_bits(out8[i]), float_bits(want));
            want = (float)((double)scales[s] * (double)(inu[i] - (zps[s] + 128)));
            assert_int_equal(float_bits(outu[i]), float_bits(want));
        }
        int16_t in16[1024];
        float out16[1024];
        for (int i = 0; i < 1024; i++)
            in16[i] = (int16_t)(i * 64 - 32768 + i % 64);
        tml_dequantize_s16(in16, out16, 1024, scales[s], zps[s]);
        for (int i = 0; i < 1024; i++) {
            float want = (float)((double)scales[s] * (double)(in16[i] - zps[s]));
            assert_int_equal(float_bits(out16[i]), float_bits(want));
        }
    }
    /* One by hand: 0.1f * 10 = 1.0000000149 rounds to 1.0f. */
    int8_t x = 13;
    float y;
    tml_dequantize_s8(&x, &y, 1, 0.1f, 3);
    assert_true(y == 1.0f);
}

static void test_dequantize_per_channel(void **state)
{
    (void)state;
    /* [2, 3, 2], channels on axis 1: scale 0.5/0.25/2, zero point 0/1/-1;
     * the int64 zero points deliberately misaligned. */
    int8_t in[12];
    for (int i = 0; i < 12; i++)
        in[i] = (int8_t)(i - 6);
    const float scales[3] = { 0.5f, 0.25f, 2.0f };
    const int64_t zps[3] = { 0, 1, -1 };
    unsigned char raw[4 + sizeof zps];
    memcpy(raw + 4, zps, sizeof zps);
    float out[12];
    tml_dequantize_s8_per_channel(in, out, 2, 3, 2, scales, raw + 4);
    const float want[12] = { -3.0f, -2.5f, -1.25f, -1.0f, -2.0f, 0.0f,
                             0.0f, 0.5f, 0.25f, 0.5f, 10.0f, 12.0f };
    assert_memory_equal(out, want, sizeof want);
    /* No zero points: all 0. */
    tml_dequantize_s8_per_channel(in, out, 2, 3, 2, scales, NULL);
    assert_true(out[2] == -1.0f && out[4] == -4.0f && out[11] == 10.0f);
}

/* -------------------------------------------------------------- float16 */

static void test_half_to_float_known_patterns(void **state)
{
    (void)state;
    assert_true(tml_half_to_float(0x3C00) == 1.0f);
    assert_true(tml_half_to_float(0xC000) == -2.0f);
    assert_true(tml_half_to_float(0x3555) == 0.333251953125f);
    assert_true(tml_half_to_float(0x7BFF) == 65504.0f);           /* max */
    assert_true(tml_half_to_float(0x0400) == ldexpf(1.0f, -14));  /* min normal */
    assert_true(tml_half_to_float(0x0001) == ldexpf(1.0f, -24));  /* min subnormal */
    assert_true(tml_half_to_float(0x03FF) == ldexpf(1023.0f, -24));
    assert_true(tml_half_to_float(0x8001) == -ldexpf(1.0f, -24));
    assert_int_equal(float_bits(tml_half_to_float(0x0000)), 0x00000000u);
    assert_int_equal(float_bits(tml_half_to_float(0x8000)), 0x80000000u);
    assert_int_equal(float_bits(tml_half_to_float(0x7C00)), 0x7F800000u);
    assert_int_equal(float_bits(tml_half_to_float(0xFC00)), 0xFF800000u);
    assert_int_equal(float_bits(tml_half_to_float(0x7E00)), 0x7FC00000u);
    assert_int_equal(float_bits(tml_half_to_float(0x7C01)), 0x7F802000u);
}

/* Every half pattern against the value formula of IEEE binary16. */
static void test_half_to_float_all_patterns(void **state)
{
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        int sign = (h >> 15) & 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
        float got = tml_half_to_float((uint16_t)h);
        if (e == 31) {
            assert_true(m ? isnan(got) : isinf(got));
            assert_int_equal(signbit(got) != 0, sign);
            continue;
        }
        double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
        float want = (float)(sign ? -v : v);
        assert_int_equal(float_bits(got), float_bits(want));
    }
    uint16_t in[3] = { 0x3C00, 0xBC00, 0x4500 };
    float out[3];
    tml_dequantize_f16(in, out, 3);
    assert_true(out[0] == 1.0f && out[1] == -1.0f && out[2] == 5.0f);
}

/* ------------------------------------------------- through the public API */

/* QUANTIZE (114) or DEQUANTIZE, with its empty options table. */
static tml_test_op unary_op(int32_t builtin, int32_t version, tml_dtype tin,
                            float sin, int32_t zin, tml_dtype tout, float sout,
                            int32_t zout, int32_t count)
{
    tml_test_op op = tml_test_unary_op(builtin, version, tin, sin, zin, tout,
                                       sout, zout, count);
    op.options = tml_tfl_empty_options(builtin == 114 ? TML_OPT_QUANTIZE
                                                      : TML_OPT_DEQUANTIZE);
    return op;
}

static void test_model_quantize_float_to_int8(void **state)
{
    (void)state;
    tml_test_op op = unary_op(114, 1, TML_FLOAT32, 0, 0, TML_INT8, 0.5f, -3, 6);
    const float in[6] = { 1.25f, -1.25f, 0.74f, 100.0f, -100.0f, 0.0f };
    const int8_t want[6] = { 0, -6, -2, 127, -128, -3 };
    int8_t out[6];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);
}

static void test_model_quantize_float_to_int16(void **state)
{
    (void)state;
    tml_test_op op = unary_op(114, 2, TML_FLOAT32, 0, 0, TML_INT16, 0.25f, 0, 4);
    const float in[4] = { 1.125f, -1.125f, 9000.0f, -0.124f };
    const int16_t want[4] = { 5, -5, 32767, 0 };   /* 4.5 -> 5, 36000 clamps */
    int16_t out[4];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);
}

static void test_model_requantize_int8(void **state)
{
    (void)state;
    tml_test_op op = unary_op(114, 1, TML_INT8, 0.25f, 0, TML_INT8, 1.0f, 0, 6);
    const int8_t in[6] = { 2, 5, 6, -5, -2, 127 };
    const int8_t want[6] = { 1, 2, 2, -1, -1, 32 };   /* see hand trace */
    int8_t out[6];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);
}

static void test_model_requantize_int16_to_int8_and_int8_to_uint8(void **state)
{
    (void)state;
    /* int16 scale 1/512, zp 0 -> int8 scale 1/64, zp 10: divide by 8. */
    tml_test_op op = unary_op(114, 1, TML_INT16, 1.0f / 512, 0, TML_INT8,
                              1.0f / 64, 10, 5);
    const int16_t in[5] = { 80, -84, 4, 32767, -32768 };
    /* multiplier 2^30, shift -2:
     *   80: srdhm = 40, rdbpot(40, 2) = 10 -> 20
     *  -84: srdhm = trunc(-42.5 + 2^-31) = -42, rdbpot(-42, 2) = -11 -> -1
     *    4: srdhm = 2, rdbpot(2, 2) = 1 -> 11 */
    const int8_t want[5] = { 20, -1, 11, 127, -128 };
    int8_t out[5];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);

    op = unary_op(114, 1, TML_INT8, 0.02f, -128, TML_UINT8, 0.02f, 0, 3);
    const int8_t in8[3] = { -128, 0, 127 };
    const uint8_t wantu[3] = { 0, 128, 255 };
    uint8_t outu[3];
    tml_test_run_op_ok(&op, in8, outu);
    assert_memory_equal(outu, wantu, sizeof wantu);
}

/* The element-by-element requantize path (wider types). */
static void test_model_requantize_wide_types(void **state)
{
    (void)state;
    /* int8 0.5/1 -> int32 0.25/0: (x - 1) * 2. */
    tml_test_op op = unary_op(114, 1, TML_INT8, 0.5f, 1, TML_INT32, 0.25f, 0, 3);
    const int8_t in8[3] = { -128, 127, 1 };
    const int32_t want32[3] = { -258, 252, 0 };
    int32_t out32[3];
    tml_test_run_op_ok(&op, in8, out32);
    assert_memory_equal(out32, want32, sizeof want32);

    /* int32 2^-16 -> int16 2^-8: multiplier 2^30, shift -7, i.e. / 256:
     *   128: srdhm = 64, rdbpot(64, 7) = 1 (0.5 rounds away from zero)
     *  -128: srdhm = -64, rdbpot(-64, 7) = -1;  extremes clamp. */
    op = unary_op(114, 2, TML_INT32, 1.0f / 65536, 0, TML_INT16, 1.0f / 256,
                  0, 5);
    const int32_t in32[5] = { 256, 128, -128, INT32_MAX, INT32_MIN };
    const int16_t want16[5] = { 1, 1, -1, 32767, -32768 };
    int16_t out16[5];
    tml_test_run_op_ok(&op, in32, out16);
    assert_memory_equal(out16, want16, sizeof want16);

    /* int16 1/1024 -> int16 1/2048: doubling, clamped. */
    op = unary_op(114, 2, TML_INT16, 1.0f / 1024, 0, TML_INT16, 1.0f / 2048,
                  0, 3);
    const int16_t in16[3] = { 20000, -5, -20000 };
    const int16_t want16b[3] = { 32767, -10, -32768 };
    tml_test_run_op_ok(&op, in16, out16);
    assert_memory_equal(out16, want16b, sizeof want16b);
}

static void test_model_dequantize_int8_and_float16(void **state)
{
    (void)state;
    tml_test_op op = unary_op(6, 2, TML_INT8, 0.5f, -3, TML_FLOAT32, 0, 0, 4);
    const int8_t in[4] = { -3, -128, 127, 0 };
    const float want[4] = { 0.0f, -62.5f, 65.0f, 1.5f };
    float out[4];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);

    op = unary_op(6, 3, TML_FLOAT16, 0, 0, TML_FLOAT32, 0, 0, 4);
    const uint16_t h[4] = { 0x3C00, 0xC000, 0x0001, 0x7BFF };
    const float wanth[4] = { 1.0f, -2.0f, 5.9604644775390625e-08f, 65504.0f };
    tml_test_run_op_ok(&op, h, out);
    assert_memory_equal(out, wanth, sizeof wanth);
}

/* float -> QUANTIZE -> LOGISTIC -> TANH -> LEAKY_RELU -> DEQUANTIZE ->
 * float in one model (the planner reuses buffers along the chain), against
 * the same steps through the math layer; invoked twice. */
static void test_graph_quantized_chain(void **state)
{
    (void)state;
    tml_test_graph g = {
        .ntensors = 6,
        .tensors = {
            { .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 8 } },
            { .type = TML_INT8, .ndims = 2, .dims = { 1, 8 },
              .scale = 1.0f / 16, .zero_point = 0 },
            { .type = TML_INT8, .ndims = 2, .dims = { 1, 8 },
              .scale = 1.0f / 256, .zero_point = -128 },
            { .type = TML_INT8, .ndims = 2, .dims = { 1, 8 },
              .scale = 1.0f / 128, .zero_point = 0 },
            { .type = TML_INT8, .ndims = 2, .dims = { 1, 8 },
              .scale = 1.0f / 128, .zero_point = 0 },
            { .type = TML_FLOAT32, .ndims = 2, .dims = { 1, 8 } },
        },
        .nops = 5,
        .ops = {
            { .builtin = 114, .ninputs = 1, .inputs = { 0 }, .noutputs = 1,
              .outputs = { 1 } },
            { .builtin = 14, .version = 2, .ninputs = 1, .inputs = { 1 },
              .noutputs = 1, .outputs = { 2 } },
            { .builtin = 28, .version = 2, .ninputs = 1, .inputs = { 2 },
              .noutputs = 1, .outputs = { 3 } },
            { .builtin = 98, .ninputs = 1, .inputs = { 3 }, .noutputs = 1,
              .outputs = { 4 }, .options = tml_tfl_leaky_relu_options(0.5f) },
            { .builtin = 6, .version = 2, .ninputs = 1, .inputs = { 4 },
              .noutputs = 1, .outputs = { 5 } },
        },
        .ninputs = 1, .inputs = { 0 },
        .noutputs = 1, .outputs = { 5 },
    };
    const float x[8] = { -9.0f, -2.5f, -0.3f, 0.0f, 0.03f, 1.0f, 3.3f, 8.0f };
    float want[8], got[8];
    tml_sigmoid_params pl, pt;
    tml_leaky_params pk;
    assert_int_equal(tml_sigmoid_params_init(&pl, 1.0f / 16, 0), 0);
    assert_int_equal(tml_sigmoid_params_init(&pt, 1.0f / 256, -128), 0);
    assert_int_equal(tml_leaky_q_init(&pk, 1.0f / 128, 0, 1.0f / 128, 0,
                                      0.5f, INT8_MIN, INT8_MAX), 0);
    for (int i = 0; i < 8; i++) {
        int8_t q = (int8_t)tml_quantize_value(x[i], 1.0f / 16, 0, -128, 127);
        int8_t v = tml_tanh_s8(&pt, tml_logistic_s8(&pl, q));
        v = (int8_t)tml_leaky_q(&pk, v);
        tml_dequantize_s8(&v, &want[i], 1, 1.0f / 128, 0);
    }
    /* sanity of the chain itself: tanh(sigmoid(0)) = tanh(0.5) = 0.4621 */
    assert_true(fabsf(want[3] - 0.4621f) < 0.01f);

    tml_test_runner r;
    tml_status s = tml_test_runner_open_graph(&r, &g, 0);
    if (s != TML_OK)
        print_error("%s\n", tml_test_runner_error(&r));
    assert_int_equal(s, TML_OK);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(tml_set_input(&r.it, 0, x, sizeof x), TML_OK);
        assert_int_equal(tml_invoke(&r.it), TML_OK);
        assert_int_equal(tml_get_output(&r.it, 0, got, sizeof got), TML_OK);
        assert_memory_equal(got, want, sizeof want);
    }
    tml_test_runner_close(&r);
}

static void test_model_dequantize_per_channel(void **state)
{
    (void)state;
    static const float scales[3] = { 0.5f, 0.25f, 2.0f };
    static const int64_t zps[3] = { 0, 1, -1 };
    tml_test_op op = unary_op(6, 5, TML_INT8, 0, 0, TML_FLOAT32, 0, 0, 6);
    op.inputs[0].ndims = 2;
    op.inputs[0].dims[0] = 2;
    op.inputs[0].dims[1] = 3;
    op.inputs[0].channels = 3;
    op.inputs[0].scales = scales;
    op.inputs[0].zero_points = zps;
    op.inputs[0].quant_dim = 1;
    op.outputs[0].dims[0] = 2;
    op.outputs[0].dims[1] = 3;
    const int8_t in[6] = { -6, -5, -4, 3, 4, 5 };
    /* row 0: -6*0.5, (-5-1)*0.25, (-4+1)*2;  row 1: 1.5, 0.75, 12 */
    const float want[6] = { -3.0f, -1.5f, -6.0f, 1.5f, 0.75f, 12.0f };
    float out[6];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);

    op.inputs[0].type = TML_INT16;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 DEQUANTIZE: input 0 tensor 0 'input0': per-channel "
                 "quantization needs int8, got int16");
}

static void test_model_errors(void **state)
{
    (void)state;
    tml_test_op op = unary_op(114, 1, TML_FLOAT32, 0, 0, TML_UINT8, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 QUANTIZE: output 0 tensor 1 'output0': expected int8 or int16 "
                 "for a float32 input, got uint8");

    op = unary_op(114, 1, TML_UINT8, 0.5f, 0, TML_INT16, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 QUANTIZE: output 0 tensor 1 'output0': expected int8 for a "
                 "uint8 input, got int16");

    op = unary_op(114, 1, TML_FLOAT16, 0, 0, TML_INT8, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 QUANTIZE: input 0 tensor 0 'input0': expected float32, int8, "
                 "uint8, int16 or int32, got float16");

    op = unary_op(114, 1, TML_INT8, 0, 0, TML_INT8, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                 "op 0 QUANTIZE: input 0 tensor 0 'input0': int8 needs a finite "
                 "quantization scale > 0");

    op = unary_op(114, 1, TML_FLOAT32, 0, 0, TML_INT8, 0.5f, 0, 2);
    op.outputs[0].dims[1] = 3;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                 "op 0 QUANTIZE: output 0 tensor 1 'output0': expected 2 elements "
                 "(as input 0), got 3");

    static const float two_scales[2] = { 0.5f, 0.25f };
    op = unary_op(114, 1, TML_FLOAT32, 0, 0, TML_INT8, 0, 0, 2);
    op.outputs[0].channels = 2;
    op.outputs[0].scales = two_scales;
    op.outputs[0].quant_dim = 1;
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 QUANTIZE: output 0 tensor 1 'output0': expected per-tensor "
                 "quantization, got 2 scales");

    op = unary_op(114, 1, TML_INT16, 1.0f, 0, TML_INT8, 1e-10f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 QUANTIZE: output 0 tensor 1 'output0': input scale / output "
                 "scale must be below 2^30");

    op = unary_op(6, 2, TML_INT8, 0.5f, 0, TML_INT8, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 DEQUANTIZE: output 0 tensor 1 'output0': expected float32, "
                 "got int8");

    op = unary_op(6, 1, TML_INT32, 0.5f, 0, TML_FLOAT32, 0, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 DEQUANTIZE: input 0 tensor 0 'input0': expected int8, uint8, "
                 "int16 or float16, got int32");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_value_rounds_half_away_and_clamps),
        cmocka_unit_test(test_quantize_matches_roundf_formula),
        cmocka_unit_test(test_quantize_f32_arrays),
        cmocka_unit_test(test_requant_hand_traced),
        cmocka_unit_test(test_requant_within_one_of_exact),
        cmocka_unit_test(test_requant_unsupported_ratio),
        cmocka_unit_test(test_requant_int8_uint8_is_xor_0x80),
        cmocka_unit_test(test_dequantize_bits_equal_double_formula),
        cmocka_unit_test(test_dequantize_per_channel),
        cmocka_unit_test(test_half_to_float_known_patterns),
        cmocka_unit_test(test_half_to_float_all_patterns),
        cmocka_unit_test(test_model_quantize_float_to_int8),
        cmocka_unit_test(test_model_quantize_float_to_int16),
        cmocka_unit_test(test_model_requantize_int8),
        cmocka_unit_test(test_model_requantize_int16_to_int8_and_int8_to_uint8),
        cmocka_unit_test(test_model_requantize_wide_types),
        cmocka_unit_test(test_model_dequantize_int8_and_float16),
        cmocka_unit_test(test_model_dequantize_per_channel),
        cmocka_unit_test(test_graph_quantized_chain),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
