/* Names and sizes of dtypes and statuses, for messages and tools. */
#include "tinyml/tinyml.h"

const char *tml_dtype_name(tml_dtype t)
{
    switch (t) {
    case TML_FLOAT32: return "float32";
    case TML_FLOAT16: return "float16";
    case TML_INT32: return "int32";
    case TML_UINT8: return "uint8";
    case TML_INT64: return "int64";
    case TML_STRING: return "string";
    case TML_BOOL: return "bool";
    case TML_INT16: return "int16";
    case TML_INT8: return "int8";
    }
    return "unknown";
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
