/*
 * RELU, RELU6, LEAKY_RELU, HARD_SWISH: float32 values, int8/int16 values
 * traced by hand through TFLite's fixed-point steps, whole int8 tables
 * against the TFLite Micro reference, every int8 input against the real
 * function (within one step), and single-op models through the public API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "kernels/activations.h"
#include "op_checks.h"
#include "test_util.h"

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---------------------------------------------------------------- float */

static void test_float_activations(void **state)
{
    (void)state;
    const float in[7] = { -1.0f, -0.0f, 0.0f, 2.5f, 7.0f, -INFINITY, INFINITY };
    float out[7];
    tml_relu_f32(in, out, 7);
    const float relu[7] = { 0.0f, -0.0f, 0.0f, 2.5f, 7.0f, 0.0f, INFINITY };
    for (int i = 0; i < 7; i++)
        assert_int_equal(float_bits(out[i]), float_bits(relu[i]));
    tml_relu6_f32(in, out, 7);
    const float relu6[7] = { 0.0f, -0.0f, 0.0f, 2.5f, 6.0f, 0.0f, 6.0f };
    for (int i = 0; i < 7; i++)
        assert_int_equal(float_bits(out[i]), float_bits(relu6[i]));
    float nan_in = NAN, nan_out = 0.0f;
    tml_relu_f32(&nan_in, &nan_out, 1);
    assert_true(isnan(nan_out));   /* ReluFloat lets NaN through */

    const float lin[4] = { -10.0f, 0.0f, 5.0f, -0.5f };
    tml_leaky_relu_f32(0.1f, lin, out, 4);
    assert_true(out[0] == -10.0f * 0.1f);
    assert_true(out[1] == 0.0f && out[2] == 5.0f);
    assert_true(out[3] == -0.5f * 0.1f);
    tml_leaky_relu_f32(-2.0f, lin, out, 4);     /* alpha < 0 flips */
    assert_true(out[0] == 20.0f && out[2] == 5.0f && out[3] == 1.0f);
    tml_leaky_relu_f32(1.5f, lin, out, 4);      /* alpha > 1: not a max */
    assert_true(out[0] == -15.0f && out[2] == 5.0f);

    const float hin[7] = { -4.0f, -3.0f, -1.5f, 0.0f, 1.0f, 3.0f, 4.0f };
    tml_hard_swish_f32(hin, out, 7);
    /* x * relu6(x + 3) / 6 */
    const float hs[7] = { 0.0f, 0.0f, -0.375f, 0.0f, 4.0f / 6.0f, 3.0f, 4.0f };
    for (int i = 0; i < 7; i++)
        assert_true(out[i] == hs[i]);
    assert_true(signbit(out[0]));   /* -4 * 0 / 6 = -0 */
}

/* ----------------------------------------------------------------- RELU */

static void test_relu_int8_hand_traced(void **state)
{
    (void)state;
    tml_relu_params p;
    /* 0.5 / 0.25 = 2: multiplier 2^30, shift 2; clamp below at zp 5. */
    tml_relu_q_init(&p, 0.5f, -10, 0.25f, 5, INT8_MIN, INT8_MAX);
    assert_int_equal(p.multiplier, 1 << 30);
    assert_int_equal(p.shift, 2);
    assert_int_equal(p.act_min, 5);
    assert_int_equal(p.act_max, 127);
    assert_int_equal(tml_relu_q(&p, -10), 5);
    assert_int_equal(tml_relu_q(&p, 0), 25);      /* 10 * 2 + 5 */
    assert_int_equal(tml_relu_q(&p, 51), 127);    /* 61 * 2 + 5 */
    assert_int_equal(tml_relu_q(&p, 50), 125);
    assert_int_equal(tml_relu_q(&p, 52), 127);    /* 129 clamps */
    assert_int_equal(tml_relu_q(&p, -11), 5);     /* 3 clamps up to 5 */
    assert_int_equal(tml_relu_q(&p, -128), 5);

    /* 0.5 / 1.0: multiplier 2^30, shift 0, i.e. srdhm(x, 2^30):
     * 1 -> (2^30 + 2^30) / 2^31 = 1;  3 -> 2;  5 -> 3 (halves go up). */
    tml_relu_q_init(&p, 0.5f, 0, 1.0f, -128, INT8_MIN, INT8_MAX);
    assert_int_equal(p.shift, 0);
    assert_int_equal(tml_relu_q(&p, 1), -127);
    assert_int_equal(tml_relu_q(&p, 3), -126);
    assert_int_equal(tml_relu_q(&p, 5), -125);
    assert_int_equal(tml_relu_q(&p, 4), -126);
    assert_int_equal(tml_relu_q(&p, -3), -128);   /* -1 - 128 clamps */
    assert_int_equal(tml_relu_q(&p, 127), -64);   /* srdhm(127) = 64 */
}

/* Scale ratios whose multiplier would shift left past 30 bits are
 * refused (undefined in TFLite), and so are infinite ones. */
static void test_unsupported_ratios(void **state)
{
    (void)state;
    tml_relu_params r;
    tml_leaky_params l;
    tml_hard_swish_params h;
    assert_int_equal(tml_relu_q_init(&r, 1.0f, 0, 1e-10f, 0, -128, 127), -1);
    assert_int_equal(tml_relu_q_init(&r, 1.0f, 0, ldexpf(1.0f, -30), 0, -128, 127), -1);
    assert_int_equal(tml_relu_q_init(&r, 1.0f, 0, ldexpf(1.0f, -29), 0, -128, 127), 0);
    assert_int_equal(r.shift, 30);
    assert_int_equal(tml_relu_q_init(&r, 3e38f, 0, 1e-30f, 0, -128, 127), -1);
    assert_int_equal(tml_relu_q_init(&r, 1.0f, 0, 1e-9f * 2048, 0, -128, 127), 0);
    assert_int_equal(tml_leaky_q_init(&l, 1.0f, 0, 1.0f, 0, 2e9f, -128, 127), -1);
    assert_int_equal(tml_leaky_q_init(&l, 1.0f, 0, 1.0f, 0, -2e9f, -128, 127), -1);
    assert_int_equal(tml_leaky_q_init(&l, 1.0f, 0, 1.0f, 0, -1e9f, -128, 127), 0);
    assert_int_equal(tml_hard_swish_q_init(&h, 3e7f, 0, 3e7f, 0), -2);
    assert_int_equal(tml_hard_swish_q_init(&h, 2e7f, 0, 2e7f, 0), 0);
    assert_int_equal(tml_hard_swish_q_init(&h, 1.0f, 0, 1e-45f, 0), -1);
}

static void test_relu_int8_within_one_of_real(void **state)
{
    (void)state;
    const float s_in[] = { 0.5f, 0.017f, 0.1f, 2.0f };
    const float s_out[] = { 0.25f, 0.02f, 0.1f, 0.7f };
    const int32_t z_in[] = { -10, 3, -128, 60 };
    const int32_t z_out[] = { 5, -128, -3, 0 };
    for (int c = 0; c < 4; c++) {
        tml_relu_params p;
        tml_relu_q_init(&p, s_in[c], z_in[c], s_out[c], z_out[c],
                        INT8_MIN, INT8_MAX);
        for (int x = -128; x <= 127; x++) {
            double real = (x - z_in[c]) * (double)s_in[c];
            double want = tml_test_requantize_real(real > 0 ? real : 0,
                                                   s_out[c], z_out[c]);
            assert_true(fabs(tml_relu_q(&p, x) - want) <= 1.0);
        }
    }
}

static void test_relu_int16_and_relu6(void **state)
{
    (void)state;
    tml_relu_params p;
    /* int16, zero points 0, 1/1024 -> 1/512: halve, halves round up. */
    tml_relu_q_init(&p, 1.0f / 1024, 0, 1.0f / 512, 0, INT16_MIN, INT16_MAX);
    assert_int_equal(tml_relu_q(&p, 3), 2);
    assert_int_equal(tml_relu_q(&p, 5), 3);
    assert_int_equal(tml_relu_q(&p, -7), 0);
    assert_int_equal(tml_relu_q(&p, 32767), 16384);

    tml_relu6_params r;
    /* 6 / 0.05f = 120 -> upper 20; lower is the input zero point. */
    tml_relu6_q_init(&r, 0.05f, -100, INT8_MIN, INT8_MAX);
    assert_int_equal(r.lower, -100);
    assert_int_equal(r.upper, 20);
    assert_int_equal(tml_relu6_q(&r, -128), -100);
    assert_int_equal(tml_relu6_q(&r, -99), -99);
    assert_int_equal(tml_relu6_q(&r, 20), 20);
    assert_int_equal(tml_relu6_q(&r, 21), 20);
    /* 6 / 0.01 + 50 = 650 clamps to the type. */
    tml_relu6_q_init(&r, 0.01f, 50, INT8_MIN, INT8_MAX);
    assert_int_equal(r.upper, 127);
    assert_int_equal(tml_relu6_q(&r, -128), 50);
    tml_relu6_q_init(&r, 1.0f / 4096, 0, INT16_MIN, INT16_MAX);
    assert_int_equal(r.upper, 24576);
    assert_int_equal(tml_relu6_q(&r, 30000), 24576);
    assert_int_equal(tml_relu6_q(&r, -5), 0);
}

/* ----------------------------------------------------------- LEAKY_RELU */

static void test_leaky_int8_hand_traced(void **state)
{
    (void)state;
    tml_leaky_params p;
    /* Scales equal: identity 1.0 = 2^30 * 2^(1-31); alpha 0.25 = 2^30 *
     * 2^(-1-31).  For x < 0: srdhm(x, 2^30) then rdbpot(., 1):
     *   -1: srdhm = trunc(-0.5 - ...) -> 0           -> 0
     *   -2: srdhm = trunc(-1.5 + 2^-31) = -1, rdbpot(-1, 1) = -1
     *   -3: srdhm = -1 -> -1;  -4: srdhm -2 -> -1
     *   -6: srdhm = -3, rdbpot(-3, 1) = -2;  -128: -64 -> -32 */
    tml_leaky_q_init(&p, 0.5f, 0, 0.5f, 0, 0.25f, INT8_MIN, INT8_MAX);
    assert_int_equal(p.mult_identity, 1 << 30);
    assert_int_equal(p.shift_identity, 1);
    assert_int_equal(p.mult_alpha, 1 << 30);
    assert_int_equal(p.shift_alpha, -1);
    assert_int_equal(p.alpha_negative, 0);
    const int8_t x[9] = { -1, -2, -3, -4, -6, -128, 0, 5, 127 };
    const int8_t want[9] = { 0, -1, -1, -1, -2, -32, 0, 5, 127 };
    for (int i = 0; i < 9; i++)
        assert_int_equal(tml_leaky_q(&p, x[i]), want[i]);

    /* alpha -0.5: multiplier -2^30 (shift 0); the sign is applied after
     * multiplying by +2^30: -4 -> srdhm -2 -> 2;  -3 -> srdhm -1 -> 1. */
    tml_leaky_q_init(&p, 0.5f, 0, 0.5f, 0, -0.5f, INT8_MIN, INT8_MAX);
    assert_int_equal(p.alpha_negative, 1);
    assert_int_equal(p.mult_alpha, 1 << 30);
    assert_int_equal(p.shift_alpha, 0);
    assert_int_equal(tml_leaky_q(&p, -4), 2);
    assert_int_equal(tml_leaky_q(&p, -3), 1);
    assert_int_equal(tml_leaky_q(&p, -128), 64);
    assert_int_equal(tml_leaky_q(&p, 9), 9);

    /* alpha 3: 0.75 * 2^31 with shift 2; -10 -> -30, -50 -> clamps. */
    tml_leaky_q_init(&p, 0.5f, 0, 0.5f, 0, 3.0f, INT8_MIN, INT8_MAX);
    assert_int_equal(p.mult_alpha, 1610612736);
    assert_int_equal(p.shift_alpha, 2);
    assert_int_equal(tml_leaky_q(&p, -10), -30);
    assert_int_equal(tml_leaky_q(&p, -50), -128);

    /* int16: alpha 0.125 -> shift -2; -800 -> -100. */
    tml_leaky_q_init(&p, 1.0f / 256, 0, 1.0f / 256, 0, 0.125f, INT16_MIN,
                     INT16_MAX);
    assert_int_equal(tml_leaky_q(&p, -800), -100);
    assert_int_equal(tml_leaky_q(&p, 300), 300);
    assert_int_equal(tml_leaky_q(&p, -32768), -4096);
}

/* All 256 outputs of TFLite Micro's reference QuantizeLeakyRelu for input
 * 0.1/5, output 0.05/-10, alpha 0.2 (computed offline with TFLite Micro's
 * reference kernel; index = input + 128). */
static const int8_t tflm_leaky[256] = {
    -63, -63, -63, -62, -62, -61, -61, -61, -60, -60, -59, -59, -59, -58, -58, -57,
    -57, -57, -56, -56, -55, -55, -55, -54, -54, -53, -53, -53, -52, -52, -51, -51,
    -51, -50, -50, -49, -49, -49, -48, -48, -47, -47, -47, -46, -46, -45, -45, -45,
    -44, -44, -43, -43, -43, -42, -42, -41, -41, -41, -40, -40, -39, -39, -39, -38,
    -38, -37, -37, -37, -36, -36, -35, -35, -35, -34, -34, -33, -33, -33, -32, -32,
    -31, -31, -31, -30, -30, -29, -29, -29, -28, -28, -27, -27, -27, -26, -26, -25,
    -25, -25, -24, -24, -23, -23, -23, -22, -22, -21, -21, -21, -20, -20, -19, -19,
    -19, -18, -18, -17, -17, -17, -16, -16, -15, -15, -15, -14, -14, -13, -13, -13,
    -12, -12, -11, -11, -11, -10, -8, -6, -4, -2, 0, 2, 4, 6, 8, 10,
    12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42,
    44, 46, 48, 50, 52, 54, 56, 58, 60, 62, 64, 66, 68, 70, 72, 74,
    76, 78, 80, 82, 84, 86, 88, 90, 92, 94, 96, 98, 100, 102, 104, 106,
    108, 110, 112, 114, 116, 118, 120, 122, 124, 126, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
};

static void test_leaky_int8_table_and_real(void **state)
{
    (void)state;
    tml_leaky_params p;
    tml_leaky_q_init(&p, 0.1f, 5, 0.05f, -10, 0.2f, INT8_MIN, INT8_MAX);
    for (int x = -128; x <= 127; x++) {
        int32_t got = tml_leaky_q(&p, x);
        assert_int_equal(got, tflm_leaky[x + 128]);
        double real = (x - 5) * 0.1;
        double want = tml_test_requantize_real(real > 0 ? real : real * 0.2,
                                               0.05, -10);
        assert_true(fabs(got - want) <= 1.0);
    }
}

/* ----------------------------------------------------------- HARD_SWISH */

static void test_downscale_multiplier16(void **state)
{
    (void)state;
    assert_int_equal(tml_downscale_multiplier16(1 << 30), 16384);
    assert_int_equal(tml_downscale_multiplier16(1431655808), 21845);
    assert_int_equal(tml_downscale_multiplier16((1 << 30) + (1 << 15)), 16385);
    assert_int_equal(tml_downscale_multiplier16((1 << 30) + (1 << 15) - 1), 16384);
    assert_int_equal(tml_downscale_multiplier16(INT32_MAX), 32767);
    assert_int_equal(tml_downscale_multiplier16(INT32_MAX - 32768), 32767);
    assert_int_equal(tml_downscale_multiplier16(0), 0);
}

static void test_hard_swish_int8_hand_traced(void **state)
{
    (void)state;
    tml_hard_swish_params p;
    /* Input and output 1/16, zero points 0.
     *   hires scale 1/2048; output multiplier 1/128 = 2^30 * 2^(-6-31)
     *     -> Q15 16384, exponent -6;
     *   reluish multiplier (1/2048) / (3/32768) = 16/3 (5.3333335 in float)
     *     = 1431655808 * 2^(3-31) -> Q15 21845, exponent 3.
     * x = 16 (1.0):  hires = 16 * 128 = 2048
     *   preshift_out = srdhm16(2048, 16384) = trunc(1024.5) = 1024
     *   reluish: 2048 << 2 = 8192; srdhm16(8192, 21845) = 5461;
     *            << 1 = 10922; (10922 + 32768) >> 1 = 21845   (~2/3 in Q15)
     *   sdhm16(21845, 1024) = trunc(682.6) = 682; rdbpot(682, 6) = 11
     *   (real: 1 * 4 / 6 = 0.667 = 10.67 steps)
     * x = -16: preshift -1024; reluish -8192 -> -5461 -> -10922 -> 10923;
     *   sdhm16(10923, -1024) = -341; rdbpot(-341, 6) = -5 (real -5.33)
     * x = 48 (3.0): reluish saturates at 32767 (1.0); out = 48.
     * x = -48: reluish (-32768 + 32768) >> 1 = 0; out 0. */
    assert_int_equal(tml_hard_swish_q_init(&p, 1.0f / 16, 0, 1.0f / 16, 0), 0);
    assert_int_equal(p.output_mult16, 16384);
    assert_int_equal(p.output_exponent, -6);
    assert_int_equal(p.reluish_mult16, 21845);
    assert_int_equal(p.reluish_exponent, 3);
    const int8_t x[10] = { 16, -16, 0, 48, -48, 8, -24, 127, -128, 20 };
    const int8_t want[10] = { 11, -5, 0, 48, 0, 5, -6, 127, 0, 14 };
    for (int i = 0; i < 10; i++)
        assert_int_equal(tml_hard_swish_q(&p, x[i]), want[i]);

    /* An output scale <= input scale / 128 needs a left shift: rejected. */
    assert_int_equal(tml_hard_swish_q_init(&p, 1.0f, 0, 1.0f / 128, 0), -1);
    assert_int_equal(tml_hard_swish_q_init(&p, 1.0f, 0, 1.0f / 127, 0), 0);
}

/* TFLite Micro's reference HardSwish<int8_t>, input 0.05/-30, output
 * 0.03/-90, all 256 inputs (offline, TFLite Micro reference kernel).  Note
 * the fixed-point wobble at index 68 (-103 between two -102). */
static const int8_t tflm_hard_swish[256] = {
    -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90,
    -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90, -90,
    -90, -90, -90, -90, -90, -90, -90, -91, -92, -92, -93, -94, -95, -95, -96, -96,
    -97, -97, -98, -98, -99, -99, -100, -100, -100, -101, -101, -101, -102, -102, -102, -102,
    -102, -102, -102, -102, -103, -102, -102, -102, -102, -102, -102, -102, -102, -101, -101, -101,
    -101, -100, -100, -99, -99, -98, -98, -97, -97, -96, -96, -95, -95, -94, -93, -92,
    -92, -91, -90, -89, -88, -87, -86, -85, -85, -83, -82, -81, -80, -79, -78, -77,
    -76, -74, -73, -72, -71, -69, -68, -66, -65, -63, -62, -60, -59, -57, -56, -54,
    -52, -51, -49, -47, -46, -44, -42, -40, -38, -36, -34, -32, -30, -28, -26, -24,
    -22, -20, -18, -16, -14, -11, -9, -7, -5, -2, 0, 3, 5, 8, 10, 12,
    13, 15, 17, 18, 20, 22, 23, 25, 27, 28, 30, 32, 33, 35, 37, 38,
    40, 42, 43, 45, 47, 48, 50, 52, 53, 55, 57, 58, 60, 62, 63, 65,
    67, 68, 70, 72, 73, 75, 77, 78, 80, 82, 83, 85, 87, 88, 90, 92,
    93, 95, 97, 98, 100, 102, 103, 105, 107, 108, 110, 112, 113, 115, 117, 118,
    120, 122, 123, 125, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
};

static void test_hard_swish_int8_table_and_real(void **state)
{
    (void)state;
    tml_hard_swish_params p;
    assert_int_equal(tml_hard_swish_q_init(&p, 0.05f, -30, 0.03f, -90), 0);
    for (int x = -128; x <= 127; x++) {
        int32_t got = tml_hard_swish_q(&p, x);
        assert_int_equal(got, tflm_hard_swish[x + 128]);
        double v = (x + 30) * 0.05;
        double r6 = v + 3 < 0 ? 0 : (v + 3 > 6 ? 6 : v + 3);
        double want = tml_test_requantize_real(v * r6 / 6, 0.03, -90);
        assert_true(fabs(got - want) <= 1.0);
    }
    /* Other scales: within one step of the real function everywhere. */
    const float s_in[] = { 0.02f, 0.1f, 0.0625f, 0.3f };
    const float s_out[] = { 0.015f, 0.05f, 0.0625f, 0.2f };
    const int32_t z_in[] = { 0, -128, 7, 90 };
    const int32_t z_out[] = { -60, -100, -20, -128 };
    for (int c = 0; c < 4; c++) {
        assert_int_equal(tml_hard_swish_q_init(&p, s_in[c], z_in[c], s_out[c],
                                               z_out[c]), 0);
        for (int x = -128; x <= 127; x++) {
            double v = (x - z_in[c]) * (double)s_in[c];
            double r6 = v + 3 < 0 ? 0 : (v + 3 > 6 ? 6 : v + 3);
            double want = tml_test_requantize_real(v * r6 / 6, s_out[c],
                                                   z_out[c]);
            assert_true(fabs(tml_hard_swish_q(&p, x) - want) <= 1.0);
        }
    }
}

static void test_lut_in_place(void **state)
{
    (void)state;
    int8_t lut[256];
    for (int i = 0; i < 256; i++)
        lut[i] = (int8_t)(255 - i);   /* byte b -> ~b */
    int8_t buf[4] = { 0, -1, 127, -128 };
    tml_lut_s8(lut, buf, buf, 4);
    assert_int_equal(buf[0], -1);
    assert_int_equal(buf[1], 0);
    assert_int_equal(buf[2], -128);
    assert_int_equal(buf[3], 127);
}

/* ------------------------------------------------- through the public API */

static void test_model_relu_relu6_int8(void **state)
{
    (void)state;
    tml_test_op op = tml_test_unary_op(19, 2, TML_INT8, 0.5f, -10, TML_INT8,
                                       0.25f, 5, 6);
    const int8_t in[6] = { -10, 0, 51, 50, -11, -128 };
    const int8_t want[6] = { 5, 25, 127, 125, 5, 5 };
    int8_t out[6];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);

    op = tml_test_unary_op(21, 2, TML_INT8, 0.05f, -100, TML_INT8, 0.05f, -100,
                           4);
    const int8_t in6[4] = { -128, -99, 20, 21 };
    const int8_t want6[4] = { -100, -99, 20, 20 };
    tml_test_run_op_ok(&op, in6, out);
    assert_memory_equal(out, want6, sizeof want6);
}

static void test_model_float(void **state)
{
    (void)state;
    const float in[4] = { -4.0f, -1.5f, 1.0f, 7.0f };
    float out[4];
    tml_test_op op = tml_test_unary_op(19, 1, TML_FLOAT32, 0, 0, TML_FLOAT32, 0,
                                       0, 4);
    tml_test_run_op_ok(&op, in, out);
    assert_true(out[0] == 0.0f && out[1] == 0.0f && out[2] == 1.0f &&
                out[3] == 7.0f);
    op.builtin = 21;
    tml_test_run_op_ok(&op, in, out);
    assert_true(out[3] == 6.0f);
    op.builtin = 117;
    op.options = tml_tfl_empty_options(TML_OPT_HARD_SWISH);
    tml_test_run_op_ok(&op, in, out);
    assert_true(out[0] == 0.0f && out[1] == -0.375f &&
                out[2] == 4.0f / 6.0f && out[3] == 7.0f);
    op.builtin = 98;
    op.options = tml_tfl_leaky_relu_options(0.25f);
    tml_test_run_op_ok(&op, in, out);
    assert_true(out[0] == -1.0f && out[1] == -0.375f && out[2] == 1.0f);
    /* No LeakyReluOptions table: alpha 0 (TFLite's parser default). */
    op.options = tml_tfl_empty_options(0);
    tml_test_run_op_ok(&op, in, out);
    assert_true(out[0] == 0.0f && signbit(out[0]) && out[2] == 1.0f);
}

static void test_model_leaky_and_hard_swish_int8(void **state)
{
    (void)state;
    int8_t in[256], out[256];
    for (int i = 0; i < 256; i++)
        in[i] = (int8_t)(i - 128);
    tml_test_op op = tml_test_unary_op(98, 1, TML_INT8, 0.1f, 5, TML_INT8,
                                       0.05f, -10, 256);
    op.options = tml_tfl_leaky_relu_options(0.2f);
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, tflm_leaky, 256);

    op = tml_test_unary_op(117, 1, TML_INT8, 0.05f, -30, TML_INT8, 0.03f, -90,
                           256);
    op.options = tml_tfl_empty_options(TML_OPT_HARD_SWISH);
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, tflm_hard_swish, 256);
}

static void test_model_int16(void **state)
{
    (void)state;
    tml_test_op op = tml_test_unary_op(19, 3, TML_INT16, 1.0f / 1024, 0,
                                       TML_INT16, 1.0f / 512, 0, 4);
    const int16_t in[4] = { 3, 5, -7, 32767 };
    const int16_t want[4] = { 2, 3, 0, 16384 };
    int16_t out[4];
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, want, sizeof want);

    op = tml_test_unary_op(98, 2, TML_INT16, 1.0f / 256, 0, TML_INT16,
                           1.0f / 256, 0, 3);
    op.options = tml_tfl_leaky_relu_options(0.125f);
    const int16_t lin[3] = { -800, 300, -32768 };
    const int16_t lwant[3] = { -100, 300, -4096 };
    tml_test_run_op_ok(&op, lin, out);
    assert_memory_equal(out, lwant, sizeof lwant);
}

static void test_model_errors(void **state)
{
    (void)state;
    tml_test_op op = tml_test_unary_op(19, 1, TML_INT32, 0, 0, TML_INT32, 0, 0,
                                       2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 RELU: input 0 tensor 0 'input0': expected float32, int8 or "
                 "int16, got int32");

    op = tml_test_unary_op(117, 1, TML_INT16, 0.5f, 0, TML_INT16, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 HARD_SWISH: input 0 tensor 0 'input0': expected float32 or "
                 "int8, got int16");

    op = tml_test_unary_op(98, 1, TML_INT8, 0.5f, 0, TML_INT8, 0.5f, 0, 2);
    op.outputs[0].type = TML_FLOAT32;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                 "op 0 LEAKY_RELU: output 0 tensor 1 'output0': expected int8 (the "
                 "dtype of input 0), got float32");

    op = tml_test_unary_op(19, 2, TML_INT8, 0.5f, 0, TML_INT8, 0, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                 "op 0 RELU: output 0 tensor 1 'output0': int8 needs a finite "
                 "quantization scale > 0");

    op = tml_test_unary_op(19, 3, TML_INT16, 0.5f, 3, TML_INT16, 0.5f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 RELU: input 0 tensor 0 'input0': int16 needs zero point 0, "
                 "got 3");

    op = tml_test_unary_op(117, 1, TML_INT8, 1.0f, 0, TML_INT8, 1.0f / 128, 0,
                           2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 HARD_SWISH: output 0 tensor 1 'output0': expected a scale > "
                 "input scale / 128 (output multiplier exponent <= 0), got exponent 1");

    op = tml_test_unary_op(19, 2, TML_INT8, 1.0f, 0, TML_INT8, 1e-10f, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 RELU: output 0 tensor 1 'output0': input scale / output scale "
                 "must be below 2^30");

    op = tml_test_unary_op(98, 1, TML_INT8, 1.0f, 0, TML_INT8, 1.0f, 0, 2);
    op.options = tml_tfl_leaky_relu_options(-2e9f);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 LEAKY_RELU: output 0 tensor 1 'output0': input scale (times "
                 "|alpha|) / output scale must be below 2^30");

    op = tml_test_unary_op(21, 2, TML_INT8, 0.5f, 0, TML_INT8, 0.5f, 0, 2);
    op.outputs[0].dims[1] = 4;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                 "op 0 RELU6: output 0 tensor 1 'output0': expected 2 elements (as "
                 "input 0), got 4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_activations),
        cmocka_unit_test(test_relu_int8_hand_traced),
        cmocka_unit_test(test_unsupported_ratios),
        cmocka_unit_test(test_relu_int8_within_one_of_real),
        cmocka_unit_test(test_relu_int16_and_relu6),
        cmocka_unit_test(test_leaky_int8_hand_traced),
        cmocka_unit_test(test_leaky_int8_table_and_real),
        cmocka_unit_test(test_downscale_multiplier16),
        cmocka_unit_test(test_hard_swish_int8_hand_traced),
        cmocka_unit_test(test_hard_swish_int8_table_and_real),
        cmocka_unit_test(test_lut_in_place),
        cmocka_unit_test(test_model_relu_relu6_int8),
        cmocka_unit_test(test_model_float),
        cmocka_unit_test(test_model_leaky_and_hard_swish_int8),
        cmocka_unit_test(test_model_int16),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
