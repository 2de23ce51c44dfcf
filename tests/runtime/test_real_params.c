/*
 * The kernels' prepare-time multipliers, now derived with tml_real
 * (runtime/real.h), against TFLite's expressions evaluated in native
 * double here: ADD (double), SUB (float then widened), MUL, QUANTIZE
 * requantization, RELU, LEAKY_RELU, HARD_SWISH, SOFTMAX, LOGISTIC/TANH,
 * and MEAN's 1/count fold.
 * Every returned field and status must be identical for hundreds of
 * thousands of pseudo-random scale combinations (typical quantisation
 * scales, sparse mantissas, and any finite float).  This catches a wrong
 * formula, precision (float vs double) or condition; a 1-ulp double
 * difference only shows when it crosses a Q31 rounding boundary, which
 * is what test_real's bit-for-bit comparisons of each operation are for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kernels/activations.h"
#include "kernels/add_sub.h"
#include "kernels/logistic_tanh.h"
#include "kernels/movement.h"
#include "kernels/mul.h"
#include "kernels/quantize.h"
#include "kernels/softmax.h"
#include "quant.h"

enum { N = 300000 };

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A positive scale: mostly 2^-20 .. 2^4, some sparse mantissas, some any
 * finite positive float (subnormals, huge). */
static float gen_scale(uint64_t *s)
{
    uint32_t b = (uint32_t)next(s) & 0x7fffff;
    uint32_t exp;
    switch (next(s) % 8) {
    case 0:
        exp = (uint32_t)(next(s) % 255);   /* 0: subnormal (or 0) */
        break;
    case 1:
        b &= (uint32_t)next(s) & (uint32_t)next(s);
        exp = (uint32_t)(127 - 20 + next(s) % 25);
        break;
    default:
        exp = (uint32_t)(127 - 20 + next(s) % 25);
    }
    uint32_t bits = b | (exp << 23);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* QuantizeMultiplierSmallerThanOneExp as add/sub_common.cc use it. */
static int ref_smaller_than_one(double real, int32_t *m, int32_t *shift)
{
    if (!(real > 0.0 && real < 1.0))
        return -1;
    int s;
    tml_quantize_multiplier(real, m, &s);
    if (s > 0)
        return -1;
    *shift = s;
    return 0;
}

static int ref_addsub(tml_addsub_params *p, int is_sub, float s1, float s2,
                      float so)
{
    double r1, r2, ro;
    float max = s1 > s2 ? s1 : s2;
    if (is_sub) {   /* sub_common.cc: float, then widened */
        float twice = 2.0f * max;
        r1 = (double)(s1 / twice);
        r2 = (double)(s2 / twice);
        ro = (double)(twice / ((float)(1 << 20) * so));
    } else {        /* add_common.cc: double */
        double twice = 2 * (double)max;
        r1 = (double)s1 / twice;
        r2 = (double)s2 / twice;
        ro = twice / ((1 << 20) * (double)so);
    }
    if (ref_smaller_than_one(r1, &p->input1_multiplier, &p->input1_shift) ||
        ref_smaller_than_one(r2, &p->input2_multiplier, &p->input2_shift) ||
        ref_smaller_than_one(ro, &p->output_multiplier, &p->output_shift))
        return -1;
    return 0;
}

static void test_add_sub(void **state)
{
    (void)state;
    uint64_t s = 11;
    int ok = 0;
    for (int i = 0; i < N; i++) {
        int is_sub = i & 1;
        float s1 = gen_scale(&s), s2 = gen_scale(&s), so = gen_scale(&s);
        tml_addsub_params want, got;
        memset(&want, 0, sizeof want);
        memset(&got, 0, sizeof got);
        int rw = ref_addsub(&want, is_sub, s1, s2, so);
        int rg = tml_addsub_quantize(&got, is_sub, s1, 0, s2, 0, so, 0);
        assert_int_equal(rg, rw);
        if (rw != 0)
            continue;
        ok++;
        assert_int_equal(got.input1_multiplier, want.input1_multiplier);
        assert_int_equal(got.input1_shift, want.input1_shift);
        assert_int_equal(got.input2_multiplier, want.input2_multiplier);
        assert_int_equal(got.input2_shift, want.input2_shift);
        assert_int_equal(got.output_multiplier, want.output_multiplier);
        assert_int_equal(got.output_shift, want.output_shift);
    }
    assert_true(ok > N / 4);   /* most draws are valid scale triples */
}

static void test_mul(void **state)
{
    (void)state;
    uint64_t s = 12;
    for (int i = 0; i < N; i++) {
        float s1 = gen_scale(&s), s2 = gen_scale(&s), so = gen_scale(&s);
        int32_t m;
        int sh;
        tml_quantize_multiplier((double)s1 * (double)s2 / (double)so, &m, &sh);
        tml_mul_params p;
        tml_mul_quantize(&p, s1, 0, s2, 0, so, 0);
        assert_int_equal(p.output_multiplier, m);
        assert_int_equal(p.output_shift, sh);
    }
}

static int ratio_ok(double r)
{
    return r > -1073741824.0 && r < 1073741824.0;
}

static void test_requant_relu_leaky(void **state)
{
    (void)state;
    uint64_t s = 13;
    for (int i = 0; i < N; i++) {
        float si = gen_scale(&s), so = gen_scale(&s);
        float alpha = (i & 1) ? gen_scale(&s) : -gen_scale(&s);
        int32_t m = 0, m2 = 0;
        int sh = 0, sh2 = 0;

        /* PrepareQuantizeReference: in double. */
        double r = (double)si / (double)so;
        if (ratio_ok(r))
            tml_quantize_multiplier(r, &m, &sh);
        tml_requant_params q;
        assert_int_equal(tml_requant_init(&q, si, 0, so, 0, -128, 127),
                         ratio_ok(r) ? 0 : -1);
        assert_int_equal(q.multiplier, m);
        assert_int_equal(q.shift, sh);

        /* CalculateReluOpData: float ratio, widened. */
        r = (double)(si / so);
        m = 0;
        sh = 0;
        if (ratio_ok(r))
            tml_quantize_multiplier(r, &m, &sh);
        tml_relu_params rp;
        assert_int_equal(tml_relu_q_init(&rp, si, 0, so, 0, -128, 127),
                         ratio_ok(r) ? 0 : -1);
        assert_int_equal(rp.multiplier, m);
        assert_int_equal(rp.shift, sh);

        /* CalculateOpDataLeakyRelu: both ratios in float. */
        double ra = (double)(si * alpha / so);
        int ok = ratio_ok(ra) && ratio_ok(r);
        m = 0;
        sh = 0;
        if (ok) {
            tml_quantize_multiplier(ra, &m, &sh);
            tml_quantize_multiplier(r, &m2, &sh2);
        }
        tml_leaky_params lp;
        assert_int_equal(tml_leaky_q_init(&lp, si, 0, so, 0, alpha, -128, 127),
                         ok ? 0 : -1);
        if (!ok)
            continue;
        assert_int_equal(lp.alpha_negative, m < 0);
        assert_int_equal(lp.mult_alpha, m < 0 ? (int32_t)(0u - (uint32_t)m) : m);
        assert_int_equal(lp.shift_alpha, sh);
        assert_int_equal(lp.mult_identity, m2);
        assert_int_equal(lp.shift_identity, sh2);
    }
}

static void test_hard_swish(void **state)
{
    (void)state;
    uint64_t s = 14;
    for (int i = 0; i < N; i++) {
        float si = gen_scale(&s), so = gen_scale(&s);
        const float hires = (1.0f / 128.0f) * si;
        const double out_ratio = (double)(hires / so);
        const double reluish_ratio = (double)(hires / (3.0f / 32768.0f));
        tml_hard_swish_params p;
        int rc = tml_hard_swish_q_init(&p, si, 0, so, 0);
        if (!(out_ratio < 1.0)) {
            assert_int_equal(rc, -1);
            continue;
        }
        if (!(reluish_ratio < 2147483648.0)) {
            assert_int_equal(rc, -2);
            continue;
        }
        int32_t m;
        int sh;
        tml_quantize_multiplier(out_ratio, &m, &sh);
        assert_int_equal(p.output_mult16, tml_downscale_multiplier16(m));
        assert_int_equal(p.output_exponent, sh);
        assert_int_equal(rc, sh <= 0 ? 0 : -1);
        tml_quantize_multiplier(reluish_ratio, &m, &sh);
        assert_int_equal(p.reluish_mult16, tml_downscale_multiplier16(m));
        assert_int_equal(p.reluish_exponent, sh);
    }
}

static void test_softmax(void **state)
{
    (void)state;
    uint64_t s = 15;
    for (int i = 0; i < N; i++) {
        float beta = (i % 4 == 0) ? 1.0f : gen_scale(&s);
        float scale = gen_scale(&s);
        /* PreprocessSoftmaxScaling + CalculateInputRadius in double. */
        double real = (double)beta * (double)scale * (1 << 26);
        if (real > 2147483647.0)
            real = 2147483647.0;
        int32_t m;
        int sh;
        tml_quantize_multiplier(real, &m, &sh);
        double radius = 1.0 * 31 * (1LL << 26) / (double)(1LL << (sh < 0 ? 0 : sh));
        tml_softmax_params p;
        tml_softmax_params_int8(beta, scale, &p);
        assert_int_equal(p.input_multiplier, m);
        assert_int_equal(p.input_left_shift, sh);
        assert_int_equal(p.diff_min, -(int32_t)radius);
    }
}

static void test_sigmoid(void **state)
{
    (void)state;
    uint64_t s = 16;
    for (int i = 0; i < N; i++) {
        float scale = gen_scale(&s);
        double real = (double)scale * (double)(1 << 27);
        int sh;
        double q = tml_frexp(real, &sh);
        tml_sigmoid_params p;
        int rc = tml_sigmoid_params_init(&p, scale, 3);
        assert_int_equal(p.multiplier, (int32_t)(q * 2147483648.0));
        assert_int_equal(p.left_shift, sh);
        assert_int_equal(rc, sh < 0 ? -1 : 0);
        if (sh >= 0 && sh <= 40)
            assert_int_equal(p.range_radius, (int32_t)((15LL << 27) >> sh));
    }
}

/* MEAN's 1/count fold (reduce_common.cc): (multiplier << s) / count in
 * int64, now without a 64-bit `/` in the runtime. */
static void test_mean_rescale(void **state)
{
    (void)state;
    uint64_t s = 17;
    for (int i = 0; i < N; i++) {
        int32_t m = (int32_t)(next(&s) >> 33);   /* [0, 2^31) */
        if (i % 3 == 0)
            m = (1 << 30) + (int32_t)(next(&s) % (1u << 30));
        if (i % 7 == 0)
            m = -m;
        int shift = (int)(next(&s) % 40) - 31;
        int32_t count = (int32_t)(next(&s) >> (33 + next(&s) % 31));
        if (count <= 0)
            count = 1 + (int32_t)(next(&s) % 9);
        int sh = 0;
        while (sh < 62 && ((int64_t)1 << (sh + 1)) <= count)
            sh++;
        if (sh > 32)
            sh = 32;
        if (sh > 31 + shift)
            sh = 31 + shift;
        if (sh < 0)
            sh = 0;
        int32_t want = (int32_t)((int64_t)m * ((int64_t)1 << sh) / count);
        int32_t got_m;
        int got_s;
        tml_mean_int8_rescale(m, shift, count, &got_m, &got_s);
        assert_int_equal(got_m, want);
        assert_int_equal(got_s, shift - sh);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_sub),
        cmocka_unit_test(test_mul),
        cmocka_unit_test(test_requant_relu_leaky),
        cmocka_unit_test(test_hard_swish),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_sigmoid),
        cmocka_unit_test(test_mean_rescale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
