/*
 * DEPTHWISE_CONV_2D (int8 per-channel and float32).  Semantics: TFLite
 * Micro depthwise_conv.cc / depthwise_conv_common.cc with
 * reference_integer_ops::DepthwiseConvPerChannel and
 * reference_ops::DepthwiseConv; see conv_common.h.  Prepare is
 * conv_common.c's; hybrid models go to hybrid.c.
 *
 * Channels are independent, so the kernels run across a block of channels
 * at once (contiguous in NHWC input, filter and output); each channel still
 * adds its taps in TFLite's order (ky, kx) and float bias last.
 */
#include "conv_common.h"

#include "hybrid.h"
#include "quant.h"

enum { BLOCK = 16 };

typedef struct window {
    int32_t iy0, ix0;     /* input origin of the output pixel */
    int32_t ky0, ky1, kx0, kx1;
} window;

/* Sums are uint32: the bias comes first, as in TFLite, and a hostile bias
 * must wrap around (as TFLite's int32 does in practice) rather than hit C's
 * undefined signed overflow. */
static void requant_store(const tml_conv_params *p, const uint32_t *acc,
                          int32_t c0, int32_t count, int8_t *y)
{
    /* Locals: the int8 stores may alias anything behind p. */
    const int32_t *mult = p->q.out_mult + c0;
    const int8_t *shift = p->q.out_shift + c0;
    const int32_t out_off = p->q.output_offset;
    const int32_t lo = p->q.clamp.act_min, hi = p->q.clamp.act_max;
    for (int32_t j = 0; j < count; j++)
        y[j] = tml_requant1((int32_t)acc[j], mult[j], shift[j], out_off, lo,
                            hi);
}

/* What the channel blocks of one output pixel read. */
typedef struct dw_pixel {
    const tml_conv_params *p;
    const int8_t *x;              /* the batch's input */
    const int8_t *w;
    const int32_t *bias;
    int8_t *y;                    /* the pixel's output channels */
    int32_t in_w, cin, cout, kw;
    window win;
} dw_pixel;

/* Output channels [c0, c0 + n), n <= BLOCK; output channel c0 + j reads
 * input channel xc0 + j * xs: xs = 1 for depth_multiplier 1, xs = 0 for
 * outputs of one input channel.  Called with n = 16 and 8 (constants once
 * inlined, so the channel loop becomes SIMD) and with the rest. */
static inline void dw_int8_block(const dw_pixel *px, int32_t c0, int32_t xc0,
                                 const int32_t xs, const int32_t n)
{
    const tml_conv_params *p = px->p;
    const window *win = &px->win;
    const int16_t off = (int16_t)p->q.input_offset;
    /* With depth_multiplier 1 (xs = 1) input and output have the same
     * channel count: one stride for both, as the loop below is hot. */
    const int32_t cout = px->cout, cin = xs ? cout : px->cin;
    uint32_t acc[BLOCK];
    for (int32_t j = 0; j < n; j++)
        acc[j] = px->bias ? (uint32_t)px->bias[c0 + j] : 0u;
    for (int32_t ky = win->ky0; ky < win->ky1; ky++) {
        const int32_t iy = win->iy0 + ky * p->dilation_h;
        for (int32_t kx = win->kx0; kx < win->kx1; kx++) {
            const int32_t ix = win->ix0 + kx * p->dilation_w;
            const int8_t *xp = px->x + ((size_t)iy * px->in_w + ix) * cin
                               + xc0;
            const int8_t *wp = px->w + ((size_t)ky * px->kw + kx) * cout + c0;
            /* |w| <= 128 and |x + off| <= 255: the product fits int16. */
            for (int32_t j = 0; j < n; j++)
                acc[j] += (uint32_t)(int32_t)(int16_t)(wp[j] *
                              (int16_t)(xp[j * xs] + off));
        }
    }
    requant_store(p, acc, c0, n, px->y + c0);
}

/* depth_multiplier 1: output channel c reads input channel c. */
static void dw_int8_m1(const dw_pixel *px)
{
    const int32_t ch = px->cout;
    int32_t c0 = 0;
    for (; c0 + BLOCK <= ch; c0 += BLOCK)
        dw_int8_block(px, c0, c0, 1, BLOCK);
    if (c0 + BLOCK / 2 <= ch) {
        dw_int8_block(px, c0, c0, 1, BLOCK / 2);
        c0 += BLOCK / 2;
    }
    if (c0 < ch)
        dw_int8_block(px, c0, c0, 1, ch - c0);
}

/* Any depth_multiplier m: output channel ic * m + k reads input channel
 * ic. */
static void dw_int8_any(const dw_pixel *px)
{
    const int32_t m = px->p->depth_multiplier;
    for (int32_t ic = 0; ic < px->cin; ic++) {
        for (int32_t k0 = 0; k0 < m; k0 += BLOCK)
            dw_int8_block(px, ic * m + k0, ic, 0,
                          m - k0 < BLOCK ? m - k0 : BLOCK);
    }
}

static void window_at(const tml_conv_params *p, const tml_shape4 *in,
                      const tml_shape4 *filt, int32_t oy, int32_t ox,
                      window *win)
{
    win->iy0 = oy * p->stride_h - p->pad_h;
    win->ix0 = ox * p->stride_w - p->pad_w;
    tml_tap_range(win->iy0, p->dilation_h, filt->h, in->h, &win->ky0, &win->ky1);
    tml_tap_range(win->ix0, p->dilation_w, filt->w, in->w, &win->kx0, &win->kx1);
}

void tml_depthwise_int8(const tml_conv_params *p, const tml_shape4 *in,
                        const int8_t *x, const tml_shape4 *filt,
                        const int8_t *w, const int32_t *bias,
                        const tml_shape4 *out, int8_t *y)
{
    dw_pixel px;
    px.p = p;
    px.w = w;
    px.bias = bias;
    px.in_w = in->w;
    px.cin = in->c;
    px.cout = filt->c;
    px.kw = filt->w;
    for (int32_t b = 0; b < out->n; b++) {
        px.x = x + (size_t)b * in->h * in->w * in->c;
        for (int32_t oy = 0; oy < out->h; oy++) {
            for (int32_t ox = 0; ox < out->w; ox++) {
                window_at(p, in, filt, oy, ox, &px.win);
                px.y = y;
                if (p->depth_multiplier == 1)
                    dw_int8_m1(&px);
                else
                    dw_int8_any(&px);
                y += out->c;
            }
        }
    }
}

static void dw_f32_m1(const tml_conv_params *p, const tml_shape4 *in,
                      const float *xb, const tml_shape4 *filt, const float *w,
                      const float *bias, const window *win, float *y)
{
    const int32_t ch = filt->c, kw = filt->w;
    for (int32_t c0 = 0; c0 < ch; c0 += BLOCK) {
        const int32_t n = ch - c0 < BLOCK ? ch - c0 : BLOCK;
        float acc[BLOCK];
        for (int32_t j = 0; j < n; j++)
            acc[j] = 0.0f;
        for (int32_t ky = win->ky0; ky < win->ky1; ky++) {
            const int32_t iy = win->iy0 + ky * p->dilation_h;
            for (int32_t kx = win->kx0; kx < win->kx1; kx++) {
                const int32_t ix = win->ix0 + kx * p->dilation_w;
                const float *xp = xb + ((size_t)iy * in->w + ix) * ch + c0;
                const float *wp = w + ((size_t)ky * kw + kx) * ch + c0;
                if (n == BLOCK) {
                    for (int j = 0; j < BLOCK; j++)
                        acc[j] += xp[j] * wp[j];
                } else {
                    for (int32_t j = 0; j < n; j++)
                        acc[j] += xp[j] * wp[j];
                }
            }
        }
        for (int32_t j = 0; j < n; j++) {
            const float v = acc[j] + (bias ? bias[c0 + j] : 0.0f);
            y[c0 + j] = tml_clamp_f(v, p->q.clamp.fact_min, p->q.clamp.fact_max);
        }
    }
}

static void dw_f32_any(const tml_conv_params *p, const tml_shape4 *in,
                       const float *xb, const tml_shape4 *filt, const float *w,
                       const float *bias, const window *win, float *y)
{
    const int32_t cout = filt->c, kw = filt->w, cin = in->c;
    const int32_t m = p->depth_multiplier;
    for (int32_t oc = 0; oc < cout; oc++) {
        const int32_t ic = oc / m;
        float acc = 0.0f;
        for (int32_t ky = win->ky0; ky < win->ky1; ky++) {
            const int32_t iy = win->iy0 + ky * p->dilation_h;
            for (int32_t kx = win->kx0; kx < win->kx1; kx++) {
                const int32_t ix = win->ix0 + kx * p->dilation_w;
                acc += xb[((size_t)iy * in->w + ix) * cin + ic] *
                       w[((size_t)ky * kw + kx) * cout + oc];
            }
        }
        const float v = acc + (bias ? bias[oc] : 0.0f);
        y[oc] = tml_clamp_f(v, p->q.clamp.fact_min, p->q.clamp.fact_max);
    }
}

void tml_depthwise_f32(const tml_conv_params *p, const tml_shape4 *in,
                       const float *x, const tml_shape4 *filt, const float *w,
                       const float *bias, const tml_shape4 *out, float *y)
{
    for (int32_t b = 0; b < out->n; b++) {
        const float *xb = x + (size_t)b * in->h * in->w * in->c;
        for (int32_t oy = 0; oy < out->h; oy++) {
            for (int32_t ox = 0; ox < out->w; ox++) {
                window win;
                window_at(p, in, filt, oy, ox, &win);
                if (p->depth_multiplier == 1)
                    dw_f32_m1(p, in, xb, filt, w, bias, &win, y);
                else
                    dw_f32_any(p, in, xb, filt, w, bias, &win, y);
                y += out->c;
            }
        }
    }
}

/* ------------------------------------------------------ registration */

static tml_status dw_prepare(tml_interpreter *it, tml_node *n)
{
#ifndef TML_NO_HYBRID
    if (tml_wop_hybrid(it, n))
        return tml_hybrid_depthwise_prepare(it, n);
#endif
    return tml_wop_conv_prepare(it, n, TML_WOP_DEPTHWISE);
}

static tml_status dw_eval(tml_interpreter *it, tml_node *n)
{
    tml_tensor *t[4];
    tml_shape4 s[3];
    tml_wop_shapes(it, n, t, s);
#ifndef TML_NO_HYBRID
    if (t[0]->type == TML_FLOAT32 && t[1]->type == TML_INT8)
        return tml_hybrid_depthwise_eval(it, n);
#endif
    const tml_conv_params *p = n->user;
    const void *bias = t[2] ? t[2]->data : NULL;
#ifndef TML_NO_FLOAT_KERNELS
    if (t[0]->type == TML_FLOAT32) {
        tml_depthwise_f32(p, &s[0], t[0]->data, &s[1], t[1]->data, bias,
                          &s[2], t[3]->data);
        return TML_OK;
    }
#endif
    tml_depthwise_int8(p, &s[0], t[0]->data, &s[1], t[1]->data, bias, &s[2],
                       t[3]->data);
    return TML_OK;
}

/* Versions (TFLite op_version.cc): 1 float, 2 dilation, 3 int8, 4 hybrid,
 * 6 hybrid per-channel.  5 (int16) and 7 (int4) fail in prepare. */
const tml_kernel tml_kernel_depthwise_conv_2d = { 4, 1, 6, dw_prepare, dw_eval };
