/* Quantization arithmetic shared by the quantize/ modes; see qutil.h. */
#include "convert/quantize/qutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint16_t tml_q_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t man = x & 0x7fffffu;
    if (exp == 0xffu)   /* inf stays inf, NaN stays a (quiet) NaN */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0u));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* Subnormal half (or zero): shift the full mantissa right and
         * round to nearest even. */
        if (e < -10)
            return sign;
        uint32_t m = man | 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = m >> shift;
        uint32_t rest = m & ((1u << shift) - 1u);
        uint32_t mid = 1u << (shift - 1u);
        if (rest > mid || (rest == mid && (half & 1u)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
        h++;   /* a carry into the exponent is still right (may give inf) */
    return (uint16_t)(sign | h);
}

float tml_q_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 0x400u), (int)exp - 25);
    uint32_t x;
    memcpy(&x, &v, sizeof x);
    x |= sign;
    memcpy(&v, &x, sizeof v);
    return v;
}

/* Rounds half away from zero, as TFLite's TfLiteRound (std::round). */
static int32_t round_clamp(float v, int32_t lo, int32_t hi)
{
    float r = roundf(v);
    if (!(r >= (float)lo))
        return lo;
    if (r > (float)hi)
        return hi;
    return (int32_t)r;
}

void tml_q_symmetric(const float *w, const int32_t *dims, int32_t ndims,
                     int32_t axis, int per_channel, const float *min_scales,
                     int8_t *q, float *scales)
{
    /* Index = (outer * channels + c) * inner + k. */
    size_t outer = 1, inner = 1;
    int32_t channels = 1;
    size_t total = 1;
    for (int32_t i = 0; i < ndims; i++)
        total *= (size_t)dims[i];
    if (per_channel) {
        channels = dims[axis];
        for (int32_t i = 0; i < axis; i++)
            outer *= (size_t)dims[i];
        for (int32_t i = axis + 1; i < ndims; i++)
            inner *= (size_t)dims[i];
    } else {
        inner = total;
    }
    for (int32_t c = 0; c < channels; c++) {
        float m = 0.0f;
        for (size_t o = 0; o < outer; o++) {
            const float *p = w + (o * (size_t)channels + (size_t)c) * inner;
            for (size_t k = 0; k < inner; k++)
                m = fmaxf(m, fabsf(p[k]));
        }
        /* TFLite int8 spec: symmetric weights use [-127, 127]. */
        float scale = m > 0.0f ? m / 127.0f : 1.0f;
        if (min_scales && scale < min_scales[c])
            scale = min_scales[c];
        float inv = 1.0f / scale;
        scales[c] = scale;
        for (size_t o = 0; o < outer; o++) {
            size_t base = (o * (size_t)channels + (size_t)c) * inner;
            for (size_t k = 0; k < inner; k++)
                q[base + k] = (int8_t)round_clamp(w[base + k] * inv, -127, 127);
        }
    }
}

void tml_q_activation_params(float min, float max, float *scale,
                             int32_t *zero_point)
{
    /* TF (tflite/tools/optimize): the range must contain 0. */
    double lo = min < 0.0f ? (double)min : 0.0;
    double hi = max > 0.0f ? (double)max : 0.0;
    if (hi - lo <= 0.0) {
        *scale = 1.0f;
        *zero_point = 0;
        return;
    }
    double s = (hi - lo) / 255.0;
    double zp = -128.0 - lo / s;
    double r = zp < 0 ? -floor(-zp + 0.5) : floor(zp + 0.5);
    if (r < -128.0)
        r = -128.0;
    if (r > 127.0)
        r = 127.0;
    *scale = (float)s;
    *zero_point = (int32_t)r;
}

int tml_q_ir_error(const tml_ir_graph *g, char *err, size_t n)
{
    if (err && n)
        snprintf(err, n, "%s", g->error[0] ? g->error : "graph error");
    return -1;
}

int tml_q_fail(char *err, size_t n, const char *fmt, ...)
{
    if (err && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}
