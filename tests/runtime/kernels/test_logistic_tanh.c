/*
 * LOGISTIC and TANH: float32 against libm in double, int8 parameters and
 * values traced by hand, whole int8 tables against the TFLite Micro
 * reference, every int8 input against the real function (within one
 * step), and single-op models through the public API.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "kernels/logistic_tanh.h"
#include "op_checks.h"
#include "test_util.h"

static void assert_close(double got, double want)
{
    double tol = 1e-5 * fabs(want);
    if (tol < 1e-30)
        tol = 1e-30;
    if (fabs(got - want) > tol)
        print_error("got %.9g want %.9g\n", got, want);
    assert_true(fabs(got - want) <= tol);
}

/* ---------------------------------------------------------------- float */

static void test_float_logistic_and_tanh(void **state)
{
    (void)state;
    const float in[9] = { -100.0f, -20.0f, -9.5f, -1.0f, 0.0f, 1.0f,
                          16.6f, 17.0f, 100.0f };
    float out[9];
    tml_logistic_f32(in, out, 9);
    /* reference_ops::Logistic is piecewise: exp(x) below -9 (7.5e-5
     * relative from the true sigmoid at -9.5, on purpose), 1 above
     * 16.619047, 1 / (1 + exp(-x)) between. */
    for (int i = 0; i < 9; i++) {
        double v = in[i];
        double want = v > 16.619047164916992 ? 1.0
                    : v < -9.0 ? exp(v) : 1.0 / (1.0 + exp(-v));
        assert_close(out[i], want);
    }
    assert_true(out[4] == 0.5f);
    /* Above 16.619047 the reference returns exactly 1; below -9, exp(x). */
    assert_true(out[7] == 1.0f && out[8] == 1.0f);
    assert_true(out[1] == expf(-20.0f));
    assert_true(out[0] > 0.0f);   /* exp(-100) is 3.7e-44, a subnormal */

    const float tin[8] = { -20.0f, -3.0f, -1.0f, -0.001f, 0.0f, 0.5f, 3.0f,
                           20.0f };
    tml_tanh_f32(tin, out, 8);
    for (int i = 0; i < 8; i++)
        assert_close(out[i], tanh((double)tin[i]));
    assert_true(out[4] == 0.0f);
    assert_true(out[7] == 1.0f && out[0] == -1.0f);
}

/* --------------------------------------------------------------- int8 */

static void test_sigmoid_params(void **state)
{
    (void)state;
    tml_sigmoid_params p;
    /* scale 1/16: 2^-4 * 2^27 = 2^23 = 0.5 * 2^24 -> multiplier 2^30,
     * left shift 24; radius floor(15 * 2^27 / 2^24) = 120. */
    assert_int_equal(tml_sigmoid_params_init(&p, 1.0f / 16, 3), 0);
    assert_int_equal(p.in_zp, 3);
    assert_int_equal(p.multiplier, 1 << 30);
    assert_int_equal(p.left_shift, 24);
    assert_int_equal(p.range_radius, 120);
    /* scale 0.03f = 0.0299999993 -> 0.03 * 2^27 = 4026531.8 = 0.96 * 2^22:
     * multiplier round(0.96 * 2^31) = 2061584256, radius 15 * 2^5 = 480. */
    assert_int_equal(tml_sigmoid_params_init(&p, 0.03f, -5), 0);
    assert_int_equal(p.multiplier, 2061584256);
    assert_int_equal(p.left_shift, 22);
    assert_int_equal(p.range_radius, 480);
    /* Below 2^-28 the shift would be negative: refused. */
    assert_int_equal(tml_sigmoid_params_init(&p, ldexpf(1.0f, -29), 0), -1);
    /* scale 16: shift 32, radius 0. */
    assert_int_equal(tml_sigmoid_params_init(&p, 16.0f, 0), 0);
    assert_int_equal(p.range_radius, 0);
}

static void test_int8_hand_traced(void **state)
{
    (void)state;
    tml_sigmoid_params p;
    assert_int_equal(tml_sigmoid_params_init(&p, 1.0f / 16, 0), 0);
    /* x = 0: Q4 input 0; logistic gives exactly 0.5 = 2^30 in Q0.31,
     * rdbpot(2^30, 23) = 128, minus 128 = 0.  tanh(0) = 0. */
    assert_int_equal(tml_logistic_s8(&p, 0), 0);
    assert_int_equal(tml_tanh_s8(&p, 0), 0);
    /* |x| >= radius 120 saturates without computing. */
    assert_int_equal(tml_logistic_s8(&p, 120), 127);
    assert_int_equal(tml_logistic_s8(&p, -120), -128);
    assert_int_equal(tml_tanh_s8(&p, 127), 127);
    assert_int_equal(tml_tanh_s8(&p, -128), -128);
    /* Just inside: 119/16 = 7.4375; logistic 0.99941 * 256 = 255.85 ->
     * 256 - 128 = 128, clamped to 127; tanh * 128 = 127.9999 -> 127. */
    assert_int_equal(tml_logistic_s8(&p, 119), 127);
    assert_int_equal(tml_tanh_s8(&p, 119), 127);
    /* x = 16 (1.0): 0.7310586 * 256 = 187.15 -> 59;  x = -16: 68.85 ->
     * 69 - 128 = -59.  x = 8 (0.5): tanh 0.4621172 * 128 = 59.15 -> 59. */
    assert_int_equal(tml_logistic_s8(&p, 16), 59);
    assert_int_equal(tml_logistic_s8(&p, -16), -59);
    assert_int_equal(tml_tanh_s8(&p, 8), 59);
    assert_int_equal(tml_tanh_s8(&p, -8), -59);

    /* Radius 0 (scale 16): TFLite Micro's "input <= -radius" takes even the
     * zero point to -128. */
    assert_int_equal(tml_sigmoid_params_init(&p, 16.0f, 0), 0);
    assert_int_equal(tml_logistic_s8(&p, 0), -128);
    assert_int_equal(tml_logistic_s8(&p, 1), 127);
    assert_int_equal(tml_tanh_s8(&p, 0), -128);
}

/* TFLite Micro reference_integer_ops::Logistic, input 0.0625 / zp 10, and
 * reference_integer_ops::Tanh, input 0.03 / zp -5, on all 256 inputs
 * (computed offline with TFLite Micro's reference and gemmlowp;
 * index = input + 128). */
static const int8_t tflm_logistic[256] = {
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -127, -127, -127, -127, -127, -127, -127, -127, -127,
    -127, -127, -127, -127, -127, -127, -127, -127, -126, -126, -126, -126, -126, -126, -126, -126,
    -126, -125, -125, -125, -125, -125, -124, -124, -124, -124, -123, -123, -123, -122, -122, -122,
    -121, -121, -120, -120, -120, -119, -118, -118, -117, -117, -116, -115, -114, -113, -113, -112,
    -111, -110, -109, -107, -106, -105, -104, -102, -101, -99, -97, -96, -94, -92, -90, -88,
    -86, -84, -81, -79, -76, -74, -71, -68, -65, -62, -59, -56, -53, -49, -46, -42,
    -39, -35, -31, -28, -24, -20, -16, -12, -8, -4, 0, 4, 8, 12, 16, 20,
    24, 28, 31, 35, 39, 42, 46, 49, 53, 56, 59, 62, 65, 68, 71, 74,
    76, 79, 81, 84, 86, 88, 90, 92, 94, 96, 97, 99, 101, 102, 104, 105,
    106, 107, 109, 110, 111, 112, 113, 113, 114, 115, 116, 117, 117, 118, 118, 119,
    120, 120, 120, 121, 121, 122, 122, 122, 123, 123, 123, 124, 124, 124, 124, 125,
    125, 125, 125, 125, 126, 126, 126, 126, 126, 126, 126, 126, 126, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
};

static const int8_t tflm_tanh[256] = {
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127, -127,
    -127, -127, -127, -127, -127, -127, -126, -126, -126, -126, -126, -126, -126, -126, -126, -125,
    -125, -125, -125, -125, -124, -124, -124, -124, -123, -123, -123, -123, -122, -122, -122, -121,
    -121, -120, -120, -119, -119, -118, -118, -117, -117, -116, -115, -114, -114, -113, -112, -111,
    -110, -109, -108, -107, -106, -104, -103, -102, -100, -99, -97, -95, -94, -92, -90, -88,
    -86, -84, -81, -79, -77, -74, -71, -69, -66, -63, -60, -57, -54, -51, -48, -44,
    -41, -37, -34, -30, -26, -23, -19, -15, -11, -8, -4, 0, 4, 8, 11, 15,
    19, 23, 26, 30, 34, 37, 41, 44, 48, 51, 54, 57, 60, 63, 66, 69,
    71, 74, 77, 79, 81, 84, 86, 88, 90, 92, 94, 95, 97, 99, 100, 102,
    103, 104, 106, 107, 108, 109, 110, 111, 112, 113, 114, 114, 115, 116, 117, 117,
    118, 118, 119, 119, 120, 120, 121, 121, 122, 122, 122, 123, 123, 123, 123, 124,
    124, 124, 124, 125, 125, 125, 125, 125, 126, 126, 126, 126, 126, 126, 126, 126,
    126, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
};

static void test_int8_tables(void **state)
{
    (void)state;
    tml_sigmoid_params p;
    assert_int_equal(tml_sigmoid_params_init(&p, 0.0625f, 10), 0);
    for (int x = -128; x <= 127; x++)
        assert_int_equal(tml_logistic_s8(&p, (int8_t)x), tflm_logistic[x + 128]);
    assert_int_equal(tml_sigmoid_params_init(&p, 0.03f, -5), 0);
    for (int x = -128; x <= 127; x++)
        assert_int_equal(tml_tanh_s8(&p, (int8_t)x), tflm_tanh[x + 128]);
}

static void test_int8_within_one_of_real(void **state)
{
    (void)state;
    const float scales[] = { 0.0625f, 0.03f, 0.1f, 0.0039f, 0.5f, 1.3f };
    const int32_t zps[] = { 10, -5, -128, 0, 127, 3 };
    for (int c = 0; c < 6; c++) {
        tml_sigmoid_params p;
        assert_int_equal(tml_sigmoid_params_init(&p, scales[c], zps[c]), 0);
        for (int x = -128; x <= 127; x++) {
            double v = (x - zps[c]) * (double)scales[c];
            double lw = tml_test_requantize_real(1.0 / (1.0 + exp(-v)),
                                                 1.0 / 256, -128);
            double tw = tml_test_requantize_real(tanh(v), 1.0 / 128, 0);
            assert_true(fabs(tml_logistic_s8(&p, (int8_t)x) - lw) <= 1.0);
            assert_true(fabs(tml_tanh_s8(&p, (int8_t)x) - tw) <= 1.0);
        }
    }
}

/* ------------------------------------------------- through the public API */

static void test_model_int8(void **state)
{
    (void)state;
    int8_t in[256], out[256];
    for (int i = 0; i < 256; i++)
        in[i] = (int8_t)(i - 128);
    tml_test_op op = tml_test_unary_op(14, 2, TML_INT8, 0.0625f, 10, TML_INT8,
                                       1.0f / 256, -128, 256);
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, tflm_logistic, 256);
    op = tml_test_unary_op(28, 2, TML_INT8, 0.03f, -5, TML_INT8, 1.0f / 128, 0,
                           256);
    tml_test_run_op_ok(&op, in, out);
    assert_memory_equal(out, tflm_tanh, 256);
}

static void test_model_float(void **state)
{
    (void)state;
    const float in[3] = { -1.0f, 0.0f, 17.0f };
    float out[3];
    tml_test_op op = tml_test_unary_op(14, 1, TML_FLOAT32, 0, 0, TML_FLOAT32, 0,
                                       0, 3);
    tml_test_run_op_ok(&op, in, out);
    assert_close(out[0], 1.0 / (1.0 + exp(1.0)));
    assert_true(out[1] == 0.5f && out[2] == 1.0f);
    op.builtin = 28;
    tml_test_run_op_ok(&op, in, out);
    assert_close(out[0], tanh(-1.0));
    assert_true(out[1] == 0.0f && out[2] == 1.0f);
}

static void test_model_errors(void **state)
{
    (void)state;
    tml_test_op op = tml_test_unary_op(14, 2, TML_INT8, 0.1f, 0, TML_INT8,
                                       1.0f / 256, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 LOGISTIC: output 0 tensor 1 'output0': int8 needs scale 1/256 "
                 "and zero point -128 (TFLite int8 spec), got scale 1/256 and zero "
                 "point 0");

    op = tml_test_unary_op(28, 2, TML_INT8, 0.1f, 0, TML_INT8, 1.0f / 256, 0,
                           2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 TANH: output 0 tensor 1 'output0': int8 needs scale 1/128 and "
                 "zero point 0 (TFLite int8 spec), got scale another and zero point 0");

    /* (version 3 itself is refused earlier, at tml_create) */
    op = tml_test_unary_op(28, 2, TML_INT16, 1.0f / 4096, 0, TML_INT16,
                           1.0f / 32768, 0, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 TANH: input 0 tensor 0 'input0': expected float32 or int8, got "
                 "int16");

    op = tml_test_unary_op(14, 2, TML_INT8, ldexpf(1.0f, -29), 0, TML_INT8,
                           1.0f / 256, -128, 2);
    tml_test_expect_prepare_error(&op, TML_ERROR_UNSUPPORTED,
                 "op 0 LOGISTIC: input 0 tensor 0 'input0': input scale below 2^-28 "
                 "is not supported");

    op = tml_test_unary_op(14, 2, TML_INT8, 0.1f, 0, TML_INT8, 1.0f / 256, -128,
                           2);
    op.outputs[0].type = TML_UINT8;
    tml_test_expect_prepare_error(&op, TML_ERROR_MODEL,
                 "op 0 LOGISTIC: output 0 tensor 1 'output0': expected int8 (the dtype "
                 "of input 0), got uint8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_logistic_and_tanh),
        cmocka_unit_test(test_sigmoid_params),
        cmocka_unit_test(test_int8_hand_traced),
        cmocka_unit_test(test_int8_tables),
        cmocka_unit_test(test_int8_within_one_of_real),
        cmocka_unit_test(test_model_int8),
        cmocka_unit_test(test_model_float),
        cmocka_unit_test(test_model_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
