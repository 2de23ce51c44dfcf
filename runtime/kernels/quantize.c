/*
 * QUANTIZE and DEQUANTIZE.
 *
 * QUANTIZE (TFLite Micro PrepareQuantizeReference/EvalQuantizeReference):
 *   float32 -> int8, int16                    AffineQuantize
 *   int8 -> int8, uint8, int16, int32;        Requantize
 *   uint8 -> int8; int16 -> int8, int16, int32; int32 -> int8, int16
 * 8-bit -> 8-bit requantize is a 256-entry table filled in prepare from
 * the exact reference.  Output quantization must be per-tensor.
 *
 * DEQUANTIZE: int8, uint8, int16 -> float32 (TFLite Micro); and, as full
 * TFLite (TFLite Micro has neither), float16 -> float32 (float16-quantized
 * models dequantize their weights with it) and per-channel int8 (TFLite
 * Micro would silently use the first channel's scale).
 */
#include "kernels/quantize.h"

#include <string.h>

#include "kernel.h"
#include "kernels/activations.h"
#include "quant.h"

/* ================================================================ math */

int32_t tml_quantize_value(float v, float scale, int32_t zero_point,
                           int32_t qmin, int32_t qmax)
{
    /* clamp(round(q) + zp) equals round(clamp(q, lo, hi)) + zp when lo and
     * hi are integers (round is monotone and keeps integers); clamping
     * first keeps the conversion to int in range, infinities included.
     * lo and hi are exact in float for 8- and 16-bit outputs. */
    const float lo = (float)((int64_t)qmin - zero_point);
    const float hi = (float)((int64_t)qmax - zero_point);
    float q = v / scale;
    if (q != q)
        return tml_clamp_i32(zero_point, qmin, qmax);
    q = q < lo ? lo : (q > hi ? hi : q);
    /* std::round: half away from zero; q - trunc(q) is exact. */
    int32_t t = (int32_t)q;
    const float d = q - (float)t;
    t += (d >= 0.5f) - (d <= -0.5f);
    return t + zero_point;
}

void tml_quantize_f32_s8(const float *in, int8_t *out, int32_t n,
                         float scale, int32_t zero_point)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = (int8_t)tml_quantize_value(in[i], scale, zero_point,
                                            INT8_MIN, INT8_MAX);
}

void tml_quantize_f32_s16(const float *in, int16_t *out, int32_t n,
                          float scale, int32_t zero_point)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = (int16_t)tml_quantize_value(in[i], scale, zero_point,
                                             INT16_MIN, INT16_MAX);
}

int tml_requant_init(tml_requant_params *p, float in_scale, int32_t in_zp,
                     float out_scale, int32_t out_zp, int32_t qmin,
                     int32_t qmax)
{
    int shift = 0;
    /* PrepareQuantizeReference divides in double (unlike the activations,
     * which divide in float). */
    const tml_real ratio = tml_real_div(tml_real_from_float(in_scale),
                                        tml_real_from_float(out_scale));
    const int ok = tml_ratio_supported(ratio);
    p->multiplier = 0;
    if (ok)
        tml_quantize_multiplier_real(ratio, &p->multiplier, &shift);
    p->shift = shift;
    p->in_zp = in_zp;
    p->out_zp = out_zp;
    p->qmin = qmin;
    p->qmax = qmax;
    return ok ? 0 : -1;
}

int32_t tml_requant(const tml_requant_params *p, int32_t x)
{
    /* The reference's int8<->uint8 "xor 0x80" fast path for equal scales
     * (multiplier 2^30, shift 1) gives what this gives: x +- 128. */
    int32_t v = tml_mul_by_qm(x - p->in_zp, p->multiplier, p->shift) +
                p->out_zp;
    return tml_clamp_i32(v, p->qmin, p->qmax);
}

void tml_dequantize_s8(const int8_t *in, float *out, int32_t n, float scale,
                       int32_t zero_point)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
}

void tml_dequantize_u8(const uint8_t *in, float *out, int32_t n, float scale,
                       int32_t zero_point)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
}

void tml_dequantize_s16(const int16_t *in, float *out, int32_t n, float scale,
                        int32_t zero_point)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = scale * (float)((int32_t)in[i] - zero_point);
}

void tml_dequantize_s8_per_channel(const int8_t *in, float *out,
                                   int32_t outer, int32_t channels,
                                   int32_t inner, const float *scales,
                                   const void *zero_points)
{
    const unsigned char *zp_bytes = zero_points;
    for (int32_t o = 0; o < outer; o++) {
        for (int32_t c = 0; c < channels; c++) {
            int64_t zp = 0;
            if (zp_bytes)
                memcpy(&zp, zp_bytes + (size_t)c * sizeof zp, sizeof zp);
            const int32_t base = (o * channels + c) * inner;
            tml_dequantize_s8(in + base, out + base, inner, scales[c],
                              (int32_t)zp);
        }
    }
}

float tml_half_to_float(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0x1f) {
        bits = sign | 0x7f800000u | (mantissa << 13);    /* inf, NaN */
    } else if (exponent != 0) {
        bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;                                      /* +-0 */
    } else {
        /* Subnormal m * 2^-24: shift the leading 1 up to bit 10; each
         * shift lowers the exponent.  Bit 10 at exponent 2^-14 is float
         * exponent field 127 - 14 = 113. */
        uint32_t e = 113;
        while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((mantissa & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void tml_dequantize_f16(const uint16_t *in, float *out, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        out[i] = tml_half_to_float(in[i]);
}

/* ======================================================== registration */

enum {
    MODE_F32_S8 = 1,    /* AffineQuantize */
    MODE_F32_S16,
    MODE_LUT8,          /* 8-bit -> 8-bit requantize through the table */
    MODE_REQUANT        /* any other integer pair, element by element */
};

typedef struct quantize_data {
    int32_t mode;
    uint8_t in_type, out_type;
    float scale;                 /* output scale (affine) */
    int32_t zero_point;          /* output zero point (affine) */
    tml_requant_params rq;
    int8_t lut[];                /* MODE_LUT8 only */
} quantize_data;

static void type_range(int type, int32_t *lo, int32_t *hi)
{
    switch (type) {
    case TML_INT8: *lo = INT8_MIN; *hi = INT8_MAX; return;
    case TML_UINT8: *lo = 0; *hi = UINT8_MAX; return;
    case TML_INT16: *lo = INT16_MIN; *hi = INT16_MAX; return;
    default: *lo = INT32_MIN; *hi = INT32_MAX; return;
    }
}

static int32_t load_int(int type, const void *data, int32_t i)
{
    switch (type) {
    case TML_INT8: return ((const int8_t *)data)[i];
    case TML_UINT8: return ((const uint8_t *)data)[i];
    case TML_INT16: return ((const int16_t *)data)[i];
    default: return ((const int32_t *)data)[i];
    }
}

static void store_int(int type, void *data, int32_t i, int32_t v)
{
    switch (type) {
    case TML_INT8: ((int8_t *)data)[i] = (int8_t)v; return;
    case TML_UINT8: ((uint8_t *)data)[i] = (uint8_t)v; return;
    case TML_INT16: ((int16_t *)data)[i] = (int16_t)v; return;
    default: ((int32_t *)data)[i] = v; return;
    }
}

/* The outputs TFLite Micro's QUANTIZE gives each input dtype (float32:
 * AffineQuantize; integers: Requantize); NULL when the input is none of
 * them. */
static const char *supported_outputs(int in)
{
    switch (in) {
    case TML_FLOAT32: return "int8 or int16";
    case TML_INT8: return "int8, uint8, int16 or int32";
    case TML_UINT8: return "int8";
    case TML_INT16: return "int8, int16 or int32";
    case TML_INT32: return "int8 or int16";
    default: return NULL;
    }
}

static int pair_supported(int in, int out)
{
    switch (in) {
    case TML_FLOAT32:
        return out == TML_INT8 || out == TML_INT16;
    case TML_INT8:
        return out == TML_INT8 || out == TML_UINT8 || out == TML_INT16 ||
               out == TML_INT32;
    case TML_UINT8:
        return out == TML_INT8;
    case TML_INT16:
        return out == TML_INT8 || out == TML_INT16 || out == TML_INT32;
    case TML_INT32:
        return out == TML_INT8 || out == TML_INT16;
    default:
        return 0;
    }
}

static int is_8bit(int type) { return type == TML_INT8 || type == TML_UINT8; }

static tml_status unsupported_pair(tml_interpreter *it, tml_node *n,
                                   const tml_tensor *in, const tml_tensor *out)
{
    const char *outs = supported_outputs(in->type);
    if (!outs)
        return tml_dtype_error(it, n, "input 0", in,
                               "float32, int8, uint8, int16 or int32");
    return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0", out,
                            "expected %s for a %s input, got %s", outs,
                            tml_dtype_name(in->type),
                            tml_dtype_name(out->type));
}

static tml_status quantize_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 0, &in, &out);
    if (s != TML_OK)
        return s;
    if (TML_VALIDATE && !pair_supported(in->type, out->type))
        return unsupported_pair(it, n, in, out);
    const int from_float = in->type == TML_FLOAT32;
    if (TML_VALIDATE && (s = tml_check_quant(it, n, "output 0", out)) != TML_OK)
        return s;
    if (TML_VALIDATE && !from_float &&
        (s = tml_check_quant(it, n, "input 0", in)) != TML_OK)
        return s;

    const int lut = is_8bit(in->type) && is_8bit(out->type);
    quantize_data *d = tml_alloc_persistent(it, sizeof *d + (lut ? 256 : 0));
    if (!d)
        return TML_ERROR_ARENA;
    n->user = d;
    d->in_type = in->type;
    d->out_type = out->type;
    d->scale = out->scale;
    d->zero_point = out->zero_point;
    if (from_float) {
        d->mode = out->type == TML_INT8 ? MODE_F32_S8 : MODE_F32_S16;
        return TML_OK;
    }
    int32_t lo, hi;
    type_range(out->type, &lo, &hi);
    if (tml_requant_init(&d->rq, in->scale, in->zero_point, out->scale,
                         out->zero_point, lo, hi) != 0 && TML_VALIDATE)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "output 0", out,
                                "input scale / output scale must be below "
                                "2^30");
    d->mode = lut ? MODE_LUT8 : MODE_REQUANT;
    if (lut) {
        /* Indexed by the input byte; the entry is the output byte. */
        for (int32_t b = 0; b < 256; b++) {
            int32_t x = in->type == TML_INT8 ? (int32_t)(int8_t)b : b;
            d->lut[b] = (int8_t)(uint8_t)tml_requant(&d->rq, x);
        }
    }
    return TML_OK;
}

static tml_status quantize_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const quantize_data *d = n->user;
    const int32_t count = tml_num_elements(in);
    switch (d->mode) {
    case MODE_F32_S8:
        tml_quantize_f32_s8(in->data, out->data, count, d->scale,
                            d->zero_point);
        break;
    case MODE_F32_S16:
        tml_quantize_f32_s16(in->data, out->data, count, d->scale,
                             d->zero_point);
        break;
    case MODE_LUT8:
        tml_lut_s8(d->lut, in->data, out->data, count);
        break;
    default:
        for (int32_t i = 0; i < count; i++)
            store_int(d->out_type, out->data, i,
                      tml_requant(&d->rq, load_int(d->in_type, in->data, i)));
        break;
    }
    return TML_OK;
}

/* Per-channel DEQUANTIZE: the tensor as [outer, channels, inner]. */
typedef struct dequantize_data {
    const float *scales;           /* into the model */
    const void *zero_points;       /* int64s in the model, NULL = all 0 */
    int32_t outer, channels, inner;
} dequantize_data;

static tml_status dequantize_per_channel_prepare(tml_interpreter *it,
                                                 tml_node *n,
                                                 const tml_tensor *in,
                                                 const tml_quant *q)
{
    if (TML_VALIDATE && in->type != TML_INT8)
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 0", in,
                                "per-channel quantization needs int8, got %s",
                                tml_dtype_name(in->type));
    if (TML_VALIDATE &&
        (q->dim < 0 || q->dim >= in->ndims || in->dims[q->dim] != q->count))
        return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 0", in,
                                "%d scales do not match dimension %d",
                                (int)q->count, (int)q->dim);
    for (int32_t c = 0; TML_VALIDATE && c < q->count; c++) {
        if (!(q->scales[c] > 0.0f) || q->scales[c] > 3.0e38f)
            return tml_tensor_error(it, n, TML_ERROR_MODEL, "input 0", in,
                                    "channel %d needs a finite scale > 0",
                                    (int)c);
    }
    dequantize_data *d = tml_alloc_persistent(it, sizeof *d);
    if (!d)
        return TML_ERROR_ARENA;
    d->scales = q->scales;
    d->zero_points = q->zero_points;
    d->channels = q->count;
    d->outer = 1;
    d->inner = 1;
    for (int i = 0; i < q->dim; i++)
        d->outer *= in->dims[i];
    for (int i = q->dim + 1; i < in->ndims; i++)
        d->inner *= in->dims[i];
    n->user = d;
    return TML_OK;
}

static tml_status dequantize_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in, *out;
    tml_status s = tml_unary_tensors(it, n, 0, &in, &out);
    if (s != TML_OK)
        return s;
    n->user = NULL;
    if (TML_VALIDATE && out->type != TML_FLOAT32)
        return tml_dtype_error(it, n, "output 0", out, "float32");
    if (in->type == TML_FLOAT16)
        return TML_OK;
    if (TML_VALIDATE && in->type != TML_INT8 && in->type != TML_UINT8 &&
        in->type != TML_INT16)
        return tml_dtype_error(it, n, "input 0", in,
                               "int8, uint8, int16 or float16");
    tml_quant q;
    tml_tensor_quant(it, in, &q);
    if (q.count > 1)
        return dequantize_per_channel_prepare(it, n, in, &q);
    return tml_check_quant(it, n, "input 0", in);
}

static tml_status dequantize_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    const int32_t count = tml_num_elements(in);
    const dequantize_data *d = n->user;
    if (d) {
        tml_dequantize_s8_per_channel(in->data, out->data, d->outer,
                                      d->channels, d->inner, d->scales,
                                      d->zero_points);
        return TML_OK;
    }
    switch (in->type) {
    case TML_INT8:
        tml_dequantize_s8(in->data, out->data, count, in->scale,
                          in->zero_point);
        break;
    case TML_UINT8:
        tml_dequantize_u8(in->data, out->data, count, in->scale,
                          in->zero_point);
        break;
    case TML_INT16:
        tml_dequantize_s16(in->data, out->data, count, in->scale,
                           in->zero_point);
        break;
    default:
        tml_dequantize_f16(in->data, out->data, count);
        break;
    }
    return TML_OK;
}

/* Versions (TFLite op_version.cc): QUANTIZE 1, 2 = int16 output (3 is
 * per-channel, 4 int4); DEQUANTIZE 1 uint8, 2 int8, 3 int16 or float16,
 * 4 and 5 per-channel int8 (6 is int4). */
const tml_kernel tml_kernel_quantize = { 114, 1, 2, quantize_prepare,
                                         quantize_eval };
const tml_kernel tml_kernel_dequantize = { 6, 1, 5, dequantize_prepare,
                                           dequantize_eval };
