/* Names and sizes of dtypes and statuses, for messages and tools. */
#include "tinyml/tinyml.h"

const char *tml_dtype_name(tml_dtype t)
{
    /* One array indexed by TensorType (10, the gap at 8, is "unknown"):
     * no pointer table, and no other file's strings come with it. */
    static const char names[] = "float32\0float16\0int32\0uint8\0int64\0"
                                "string\0bool\0int16\0unknown\0int8";
    static const uint8_t at[] = { 0, 8, 16, 22, 28, 34, 41, 46, 52, 60 };
    unsigned i = (unsigned)t;
    return names + at[i < sizeof at ? i : 8];
}

size_t tml_dtype_size(tml_dtype t)
{
    switch (t) {
    case TML_FLOAT32: case TML_INT32: return 4;
    case TML_FLOAT16: case TML_INT16: return 2;
    case TML_UINT8: case TML_INT8: case TML_BOOL: return 1;
    case TML_INT64: return 8;
    case TML_STRING: return 0;
    }
    return 0;
}

const char *tml_status_name(tml_status s)
{
    switch (s) {
    case TML_OK: return "ok";
    case TML_ERROR_ARGUMENT: return "bad argument";
    case TML_ERROR_MODEL: return "malformed model";
    case TML_ERROR_UNSUPPORTED: return "unsupported";
    case TML_ERROR_ARENA: return "arena too small";
    case TML_ERROR_INPUT: return "bad input";
    case TML_ERROR_STATE: return "bad state";
    case TML_ERROR_EVAL: return "eval failed";
    }
    return "unknown status";
}

int64_t tml_zero_point_at(const tml_tensor_info *info, int32_t channel)
{
    if (!info || !info->zero_points || channel < 0 || channel >= info->channels)
        return info ? info->zero_point : 0;
    return info->zero_points[channel];
}
