/*
 * SOFTMAX (see softmax.h).  Versions: 1 float32, 2 int8 (TFLite
 * op_version.cc); int16 (v3) and int8 -> int16 are not supported.
 */
#include "softmax.h"

#include <math.h>
#include <string.h>

#include "kernel.h"
#include "quant.h"
#include "real.h"
#include "schema.h"

/* TFLite's int8 softmax: exp input in Q5.26, sum of exps in Q12.19. */
enum { SCALED_DIFF_INTEGER_BITS = 5, ACCUM_INTEGER_BITS = 12 };

/* Row elements whose exp is kept on the stack between the two passes;
 * longer rows recompute the rest (as TFLite does for all of them). */
enum { EXP_CACHE = 64 };

/* PreprocessSoftmaxScaling's real multiplier before its cap:
 * (double)beta * (double)input_scale * (1 << 26), left to right. */
static tml_real softmax_real(float beta, float input_scale)
{
    tml_real r = tml_real_mul(tml_real_from_float(beta),
                              tml_real_from_float(input_scale));
    return tml_real_mul(r, tml_real_from_int(1 << (31 - SCALED_DIFF_INTEGER_BITS)));
}

void tml_softmax_params_int8(float beta, float input_scale,
                             tml_softmax_params *p)
{
    /* PreprocessSoftmaxScaling (double rounding build): the multiplier is
     * capped at 2^31 - 1; QuantizeMultiplierGreaterThanOne. */
    tml_real real = softmax_real(beta, input_scale);
    const tml_real max_real = tml_real_from_int(2147483647);
    if (tml_real_cmp(real, max_real) > 0)
        real = max_real;
    int shift;
    tml_quantize_multiplier_real(real, &p->input_multiplier, &shift);
    p->input_left_shift = shift;
    /* CalculateInputRadius(5, shift, 31): floor(31 * 2^26 / 2^shift), which
     * is exact in double and so an integer shift here (TFLite's shift is
     * >= 0; a negative one counts as 0, as before). */
    int64_t radius = ((int64_t)31 << (31 - SCALED_DIFF_INTEGER_BITS)) >>
                     (shift < 0 ? 0 : (shift > 62 ? 62 : shift));
    p->diff_min = -(int32_t)radius;
    p->beta = beta;
}

/* exp(beta * scale * diff) in Q0 for diff = input - row max <= 0. */
static int32_t exp_of_diff(const tml_softmax_params *p, int32_t diff)
{
    /* MultiplyByQuantizedMultiplierGreaterThanOne: shift >= 0. */
    int32_t scaled = tml_srdhm((int32_t)((uint32_t)diff << p->input_left_shift),
                               p->input_multiplier);
    return tml_fp_exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS);
}

void tml_softmax_int8(const tml_softmax_params *p, int32_t rows, int32_t depth,
                      const int8_t *in, int8_t *out)
{
    int32_t cache[EXP_CACHE];
    const int32_t diff_min = p->diff_min;
    for (int32_t r = 0; r < rows; r++, in += depth, out += depth) {
        int32_t max = -128;
        for (int32_t c = 0; c < depth; c++)
            max = in[c] > max ? in[c] : max;

        /* Sum of Rescale<12>(exp) (wrapping add, as gemmlowp's). */
        uint32_t sum = 0;
        for (int32_t c = 0; c < depth; c++) {
            int32_t diff = in[c] - max;
            int32_t e = diff >= diff_min ? exp_of_diff(p, diff) : 0;
            if (c < EXP_CACHE)
                cache[c] = e;
            sum += (uint32_t)tml_rdbpot(e, ACCUM_INTEGER_BITS);
        }

        int num_bits_over_unit;
        int32_t scale = tml_fp_get_reciprocal((int32_t)sum, ACCUM_INTEGER_BITS,
                                              &num_bits_over_unit);
        /* exponent = num_bits_over_unit + 31 - 8.  The row max contributes
         * exp(0), so the sum is >= 1 and exponent >= 23.  A sum of exps of
         * 512 or more (a long, flat row) makes it exceed 31, where TFLite's
         * TFLITE_CHECK aborts; there the same rounding shift is done in 64
         * bits instead (every output is then 0 or 1 above -128). */
        int exponent = num_bits_over_unit + 31 - 8;
        for (int32_t c = 0; c < depth; c++) {
            int32_t diff = in[c] - max;
            if (diff < diff_min) {
                out[c] = -128;
                continue;
            }
            int32_t e = c < EXP_CACHE ? cache[c] : exp_of_diff(p, diff);
            int32_t prod = tml_srdhm(scale, e);   /* >= 0: both are */
            int32_t v = exponent <= 31
                            ? tml_rdbpot(prod, exponent)
                            : (int32_t)(((int64_t)prod + ((int64_t)1 << (exponent - 1)))
                                        >> exponent);
            v -= 128;
            out[c] = (int8_t)tml_clamp_i32(v, -128, 127);
        }
    }
}

#ifndef TML_NO_FLOAT_KERNELS
/* Left out of int8-only deployment builds altogether: its expf reference
 * would otherwise still pull libm's expf archive members into the link
 * (--gc-sections drops them again, but only after the fact). */
void tml_softmax_f32(const tml_softmax_params *p, int32_t rows, int32_t depth,
                     const float *in, float *out)
{
    const float beta = p->beta;
    for (int32_t r = 0; r < rows; r++, in += depth, out += depth) {
        float max = -3.4028234663852886e38f;
        for (int32_t c = 0; c < depth; c++)
            max = max < in[c] ? in[c] : max;
        float sum = 0.0f;
        for (int32_t c = 0; c < depth; c++) {
            float e = expf((in[c] - max) * beta);
            out[c] = e;
            sum += e;
        }
        for (int32_t c = 0; c < depth; c++)
            out[c] = out[c] / sum;
    }
}
#endif

/* ---------------------------------------------------------- registration */

static tml_status softmax_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE && (!in || !out || n->ninputs != 1 || n->noutputs != 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "expected 1 input and 1 output, got %d and %d",
                                (int)n->ninputs, (int)n->noutputs);
    if (TML_VALIDATE && in->type != TML_INT8 && in->type != TML_FLOAT32)
        return tml_dtype_error(it, n, "input 0", in, "int8 or float32");
#ifdef TML_NO_FLOAT_KERNELS
    /* Deployment build for int8 models (tinyml export): no float32 path. */
    if (in->type == TML_FLOAT32)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
                                "float32 kernels are not built in "
                                "(TML_NO_FLOAT_KERNELS)");
#endif
    if (TML_VALIDATE && out->type != in->type)
        return tml_dtype_error(it, n, "output 0", out,
                               in->type == TML_INT8 ? "int8" : "float32");
    if (TML_VALIDATE && (in->ndims < 1 || !tml_same_shape(in, out)))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                                "expected the input's shape (rank %d), got "
                                "rank %d or other dims", (int)in->ndims,
                                (int)out->ndims);
    float beta = tml_opt_float(it, n, TML_F_SOFTMAX_BETA, 0.0f);

    tml_softmax_params *p = tml_alloc_persistent(it, sizeof *p);
    if (!p)
        return TML_ERROR_ARENA;
    if (in->type == TML_INT8) {
        /* TFLite's int8 softmax contract: output scale exactly 1/256,
         * zero point -128. */
        if (TML_VALIDATE && out->zero_point != -128)
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0",
                                    out,
                                    "int8 softmax needs zero point -128, got "
                                    "%d", (int)out->zero_point);
        if (TML_VALIDATE && out->scale != 1.0f / 256.0f) {
            uint32_t bits;
            memcpy(&bits, &out->scale, sizeof bits);
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0",
                                    out,
                                    "int8 softmax needs scale 1/256 (float "
                                    "bits 0x3b800000), got 0x%x",
                                    (unsigned)bits);
        }
        const tml_real real = softmax_real(beta, in->scale);
        if (TML_VALIDATE && !(tml_real_cmp(real, tml_real_from_int(1)) > 0))
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 0", in,
                                    "beta * scale is too small for the int8 "
                                    "softmax (TFLite needs > 2^-26)");
        /* At beta * scale >= 32 the capped multiplier rounds to 2^31 and
         * the left shift reaches 32 (undefined in TFLite as in C). */
        if (TML_VALIDATE &&
            !(tml_real_cmp(real, tml_real_from_int(2147483647)) < 0))
            return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 0", in,
                                    "beta * scale is too large for the int8 "
                                    "softmax (must be < 32)");
        tml_softmax_params_int8(beta, in->scale, p);
    } else {
        p->beta = beta;
    }
    n->user = p;
    return TML_OK;
}

static tml_status softmax_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    int32_t depth = tml_dim(in, in->ndims - 1);
    int32_t rows = depth > 0 ? tml_num_elements(in) / depth : 0;
#ifndef TML_NO_FLOAT_KERNELS
    if (in->type == TML_FLOAT32) {
        tml_softmax_f32(n->user, rows, depth, in->data, out->data);
        return TML_OK;
    }
#endif
    tml_softmax_int8(n->user, rows, depth, in->data, out->data);
    return TML_OK;
}

const tml_kernel tml_kernel_softmax = { 25, 1, 2, softmax_prepare, softmax_eval };
