/* Shared CLI helpers; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_line(const char *prefix, const char *fmt, va_list ap)
{
    char msg[1024], clean[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    tml_host_sanitize(msg, clean, sizeof clean);
    fprintf(stderr, "tinyml: %s%s\n", prefix, clean);
}

int cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_line("", fmt, ap);
    va_end(ap);
    return code;
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cli_error(CLI_BAD_INPUT, "%s (usage: %s)", msg, usage);
}

int cli_host_code(tml_host_status s)
{
    return s == TML_HOST_RUN ? CLI_RUN_FAILED : CLI_BAD_INPUT;
}

int cli_parse_int(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_option_value(int argc, char **argv, int *i, const char *name,
                     const char **value)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *i += 1;
    *value = argv[*i];
    return 1;
}

int cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcmp(path + n - e, ext) == 0;
}

void cli_stem(const char *path, char *out, size_t out_size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, out_size, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

int cli_finish(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_error(code ? code : CLI_BAD_INPUT,
                         "writing to standard output: %s", strerror(errno));
    return code;
}

void cli_describe_tensor(const tml_tensor_info *info, char *out,
                         size_t out_size)
{
    char name[128], dims[96];
    tml_host_sanitize(info->name, name, sizeof name);
    tml_host_format_dims(info->dims, info->ndims, dims, sizeof dims);
    size_t n = (size_t)snprintf(out, out_size, "'%s' (tensor %d): %s %s",
                                name, (int)info->index,
                                tml_dtype_name(info->dtype), dims);
    if (n >= out_size)
        return;
    if (info->channels > 1)
        snprintf(out + n, out_size - n, ", per-channel quantization along "
                 "axis %d (%d channels; channel 0: scale %.9g zero point %lld)",
                 (int)info->quantized_dimension, (int)info->channels,
                 (double)info->scale, (long long)tml_zero_point_at(info, 0));
    else if (info->scale != 0.0f)
        snprintf(out + n, out_size - n, ", scale %.9g zero point %d",
                 (double)info->scale, (int)info->zero_point);
    else
        snprintf(out + n, out_size - n, ", not quantized");
}
