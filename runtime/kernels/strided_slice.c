/*
 * STRIDED_SLICE (TFLite Micro's strided_slice.cc with the index logic of
 * kernels/internal/strided_slice_logic.h).  begin, end and strides are
 * constant int32 vectors.  Per axis (StridedSliceStartForAxis/EndForAxis):
 *   start: negative += size, clamp to [0, size] (stride > 0) or
 *          [-1, size - 1] (stride < 0); begin_mask bit: 0 or size - 1.
 *   stop:  shrink_axis bit: start + 1.  Else end (+ start when the offset
 *          flag is set), negative += size, clamped as start; end_mask bit:
 *          size or -1.
 *   extent ceil((stop - start) / stride), at least 0.
 * shrink_axis drops the axis from the output.  TFLite Micro forces
 * ellipsis_mask and new_axis_mask to 0; we give them TensorFlow's meaning
 * instead of ignoring them (an ellipsis spans the input axes the other
 * entries leave over; a new axis adds a size-1 output axis and consumes no
 * input axis), which equals TFLM whenever those masks are 0.
 */
#include <string.h>

#include "kernel.h"
#include "movement.h"
#include "format.h"
#include "schema.h"

enum { MAX_SPEC = 16 };   /* entries of begin/end/strides (mask bits) */

int32_t tml_slice_extent(int32_t start, int32_t stop, int32_t stride)
{
    int64_t span = (int64_t)stop - start;
    int64_t n;
    if (stride > 0)
        n = span > 0 ? (span + stride - 1) / stride : 0;
    else
        n = span < 0 ? (-span + (-(int64_t)stride) - 1) / -(int64_t)stride
                     : 0;
    return (int32_t)n;
}

void tml_strided_slice(const tml_slice_params *p, size_t elem_size,
                       const void *in, void *out)
{
    int64_t in_stride[TML_MAX_DIMS];
    int32_t count[TML_MAX_DIMS];
    int32_t idx[TML_MAX_DIMS] = { 0 };
    int64_t s = 1;
    int64_t total = 1;
    for (int d = p->rank - 1; d >= 0; d--) {
        in_stride[d] = s;
        s *= p->dims[d];
    }
    for (int d = 0; d < p->rank; d++) {
        count[d] = tml_slice_extent(p->start[d], p->stop[d], p->stride[d]);
        total *= count[d];
    }
    if (total == 0)
        return;
    const uint8_t *src = in;
    uint8_t *dst = out;
    for (int64_t o = 0; o < total; o++) {
        int64_t at = 0;
        for (int d = 0; d < p->rank; d++)
            at += ((int64_t)p->start[d] + (int64_t)idx[d] * p->stride[d]) *
                  in_stride[d];
        memcpy(dst, src + (size_t)at * elem_size, elem_size);
        dst += elem_size;
        for (int d = p->rank - 1; d >= 0; d--) {
            if (++idx[d] < count[d])
                break;
            idx[d] = 0;
        }
    }
}

/* In int64: begin/end come from the model and may be any int32, so the
 * "+= size" and "+= start" steps must not overflow. */
static int32_t clamp(int64_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : (int32_t)v);
}

/* The spec entry of one input axis. */
typedef struct axis_spec {
    int32_t begin, end, stride;
    int begin_mask, end_mask, shrink;
} axis_spec;

static void resolve_axis(const axis_spec *a, int32_t size, int offset,
                         int32_t *start, int32_t *stop)
{
    int64_t st = a->begin;
    if (st < 0)
        st += size;
    st = a->stride > 0 ? clamp(st, 0, size) : clamp(st, -1, size - 1);
    if (a->begin_mask)
        st = a->stride > 0 ? 0 : size - 1;
    *start = (int32_t)st;
    if (a->shrink) {
        *stop = st >= size ? (int32_t)st : (int32_t)st + 1;
        return;
    }
    int64_t en = a->end;
    if (offset)
        en += st;
    if (en < 0)
        en += size;
    en = a->stride > 0 ? clamp(en, 0, size) : clamp(en, -1, size - 1);
    if (a->end_mask)
        en = a->stride > 0 ? size : -1;
    *stop = (int32_t)en;
}

typedef struct slice_masks {
    int32_t begin, end, ellipsis, new_axis, shrink, offset;
} slice_masks;

static tml_status index_tensor(tml_interpreter *it, tml_node *n, int i,
                               const char *what, int32_t *count,
                               const int32_t **data)
{
    tml_tensor *t = tml_node_input(it, n, i);
    if (TML_VALIDATE && t == NULL)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
                                "input %d (%s) is absent", i, what);
    if (TML_VALIDATE && !(t->flags & TML_TENSOR_CONST))
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "input %d (%s) tensor %d '%s': expected a constant tensor, got "
            "one computed at run time", i, what, (int)tml_tensor_index(it, t),
            tml_tensor_name(it, t));
    if (TML_VALIDATE &&
        (t->type != TML_INT32 || t->ndims != 1 || t->dims[0] > MAX_SPEC))
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "input %d (%s) tensor %d '%s': expected an int32 vector of at "
            "most %d values", i, what, (int)tml_tensor_index(it, t),
            tml_tensor_name(it, t), MAX_SPEC);
    *count = t->dims[0];
    *data = t->data;
    return TML_OK;
}

static void full_axis(tml_slice_params *p, int d, int32_t size)
{
    p->start[d] = 0;
    p->stop[d] = size;
    p->stride[d] = 1;
}

static tml_status push_dim(tml_interpreter *it, tml_node *n, int32_t *dims,
                           int *rank, int32_t v)
{
    if (TML_VALIDATE && *rank >= TML_MAX_DIMS)
        return tml_kernel_error(it, n, TML_ERROR_UNSUPPORTED,
            "the output would have more than %d dimensions", TML_MAX_DIMS);
    dims[(*rank)++] = v;
    return TML_OK;
}

/* One real (input-consuming) entry i for input axis d. */
static tml_status real_axis(tml_interpreter *it, tml_node *n,
                            const tml_tensor *in, const slice_masks *m,
                            int i, int d, const int32_t *b, const int32_t *e,
                            const int32_t *s, tml_slice_params *p,
                            int32_t *out_dims, int *out_rank)
{
    axis_spec a = { b[i], e[i], s[i], (m->begin >> i) & 1,
                    (m->end >> i) & 1, (m->shrink >> i) & 1 };
    int32_t size = in->dims[d];
    if (TML_VALIDATE && a.stride == 0)
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "strides[%d] is 0: stride value has to be non-zero", i);
    resolve_axis(&a, size, m->offset != 0, &p->start[d], &p->stop[d]);
    p->stride[d] = a.stride;
    if (a.shrink) {
        if (TML_VALIDATE && (p->start[d] < 0 || p->start[d] >= size))
            return tml_kernel_error(it, n, TML_ERROR_MODEL,
                "begin[%d] = %d is outside axis %d of size %d, which "
                "shrink_axis_mask removes", i, (int)a.begin, d, (int)size);
        return TML_OK;
    }
    return push_dim(it, n, out_dims, out_rank,
                    tml_slice_extent(p->start[d], p->stop[d], a.stride));
}

/* Expands the sparse spec into one resolved range per input axis and the
 * output shape it gives. */
static tml_status expand(tml_interpreter *it, tml_node *n,
                         const tml_tensor *in, const slice_masks *m,
                         int32_t nspec, const int32_t *b, const int32_t *e,
                         const int32_t *s, tml_slice_params *p,
                         int32_t *out_dims, int *out_rank)
{
    int real = 0;
    int ellipses = 0;
    for (int i = 0; i < nspec; i++) {
        if (m->ellipsis & (1 << i))
            ellipses++;
        else if (!(m->new_axis & (1 << i)))
            real++;
    }
    if (TML_VALIDATE && (ellipses > 1 || real > in->ndims))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "%d slice entries and %d ellipses for a rank-%d input", real,
            ellipses, (int)in->ndims);
    int d = 0;
    tml_status st = TML_OK;
    p->rank = in->ndims;
    for (int i = 0; i < in->ndims; i++)
        p->dims[i] = in->dims[i];
    *out_rank = 0;
    for (int i = 0; i < nspec && st == TML_OK; i++) {
        if (m->ellipsis & (1 << i)) {
            /* spans the axes the real entries do not claim */
            for (int k = 0; k < in->ndims - real && st == TML_OK; k++, d++) {
                full_axis(p, d, in->dims[d]);
                st = push_dim(it, n, out_dims, out_rank, in->dims[d]);
            }
        } else if (m->new_axis & (1 << i)) {
            st = push_dim(it, n, out_dims, out_rank, 1);
        } else {
            st = real_axis(it, n, in, m, i, d, b, e, s, p, out_dims,
                           out_rank);
            d++;
        }
    }
    for (; d < in->ndims && st == TML_OK; d++) {
        full_axis(p, d, in->dims[d]);
        st = push_dim(it, n, out_dims, out_rank, in->dims[d]);
    }
    return st;
}

/* "[a, b, c]" into buf. */
static void format_shape(char *buf, size_t cap, const int32_t *dims, int rank)
{
    size_t at = tml_format(buf, cap, "[");
    for (int d = 0; d < rank && at < cap; d++)
        at += tml_format(buf + at, cap - at, d ? ", %d" : "%d", (int)dims[d]);
    if (at < cap)
        tml_format(buf + at, cap - at, "]");
}

static tml_status check_output(tml_interpreter *it, tml_node *n,
                               const tml_tensor *out, const int32_t *dims,
                               int rank)
{
    int ok = out->ndims == rank;
    for (int d = 0; d < rank && ok; d++)
        ok = out->dims[d] == dims[d];
    if (ok)
        return TML_OK;
    char want[48], got[48];
    format_shape(want, sizeof want, dims, rank);
    format_shape(got, sizeof got, out->dims, out->ndims);
    return tml_tensor_error(it, n, TML_ERROR_MODEL, "output 0", out,
                            "expected shape %s, got %s", want, got);
}

static int supported_type(int t)
{
    return t == TML_FLOAT32 || t == TML_INT8 || t == TML_INT16 ||
           t == TML_INT32 || t == TML_BOOL;
}

static tml_status slice_prepare(tml_interpreter *it, tml_node *n)
{
    tml_tensor *in = tml_node_input(it, n, 0);
    tml_tensor *out = tml_node_output(it, n, 0);
    if (TML_VALIDATE &&
        (in == NULL || out == NULL || n->ninputs != 4 || n->noutputs != 1))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "expected 4 inputs and 1 output, got %d and %d",
            (int)n->ninputs, (int)n->noutputs);
    if (TML_VALIDATE && (!supported_type(in->type) || out->type != in->type))
        return tml_tensor_error(it, n, TML_ERROR_UNSUPPORTED, "input 0", in,
                                "expected float32, int8, int16, int32 or "
                                "bool, the output's dtype too, got %s and %s",
                                tml_dtype_name((tml_dtype)in->type),
                                tml_dtype_name((tml_dtype)out->type));
    int32_t nb, ne, ns;
    const int32_t *b, *e, *s;
    tml_status st = index_tensor(it, n, 1, "begin", &nb, &b);
    if (st == TML_OK)
        st = index_tensor(it, n, 2, "end", &ne, &e);
    if (st == TML_OK)
        st = index_tensor(it, n, 3, "strides", &ns, &s);
    if (st != TML_OK)
        return st;
    if (TML_VALIDATE && (nb != ne || nb != ns))
        return tml_kernel_error(it, n, TML_ERROR_MODEL,
            "begin, end and strides must have one length, got %d, %d, %d",
            (int)nb, (int)ne, (int)ns);
    slice_masks m;
    m.begin = tml_opt_int(it, n, TML_F_SS_BEGIN_MASK, 4, 0);
    m.end = tml_opt_int(it, n, TML_F_SS_END_MASK, 4, 0);
    m.ellipsis = tml_opt_int(it, n, TML_F_SS_ELLIPSIS_MASK, 4, 0);
    m.new_axis = tml_opt_int(it, n, TML_F_SS_NEW_AXIS_MASK, 4, 0);
    m.shrink = tml_opt_int(it, n, TML_F_SS_SHRINK_AXIS_MASK, 4, 0);
    m.offset = tml_opt_int(it, n, TML_F_SS_OFFSET, 1, 0);
    tml_slice_params *p = tml_alloc_persistent(it, sizeof *p);
    if (p == NULL)
        return TML_ERROR_ARENA;
    int32_t dims[TML_MAX_DIMS];
    int rank = 0;
    st = expand(it, n, in, &m, nb, b, e, s, p, dims, &rank);
    if (st != TML_OK)
        return st;
    if (TML_VALIDATE && (st = check_output(it, n, out, dims, rank)) != TML_OK)
        return st;
    n->user = p;
    return TML_OK;
}

static tml_status slice_eval(tml_interpreter *it, tml_node *n)
{
    const tml_tensor *in = tml_node_input(it, n, 0);
    tml_strided_slice(n->user, tml_dtype_size((tml_dtype)in->type), in->data,
                      tml_node_output(it, n, 0)->data);
    return TML_OK;
}

/* Versions 1-8 add dtypes (int8, bool, int16, string), 5D, the offset
 * flag; dtypes and rank are checked above. */
const tml_kernel tml_kernel_strided_slice = { 45, 1, 8, slice_prepare,
                                              slice_eval };
