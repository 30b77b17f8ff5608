/* numpy's array and scalar printing, ported from numpy's arrayprint.py: the
 * numpy 1.13 FloatFormat (printf with stripped zeros) and _formatArray, and
 * the numpy >= 1.14 FloatingFormat ('maxprec': shortest round-trip digits,
 * at most 8 after the point) and its recurser. See numpy_print.h. */
#include "numpy_print.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION 8
#define LINE_WIDTH 75
/* Longest element string: sign, 9 integer digits (exp format above 1e8),
 * point, 8 digits, or "-1.23456789e+100" padded; well under this. */
#define ELEMENT_CAPACITY 48

typedef struct strbuf {
    char *text;
    size_t length;
    size_t capacity;
    int out_of_memory;
} strbuf;

static void sb_append_n(strbuf *sb, const char *s, size_t n)
{
    if (sb->out_of_memory)
        return;
    if (sb->length + n + 1 > sb->capacity) {
        size_t capacity = sb->capacity ? sb->capacity : 64;
        while (sb->length + n + 1 > capacity)
            capacity *= 2;
        char *text = realloc(sb->text, capacity);
        if (!text) {
            sb->out_of_memory = 1;
            return;
        }
        sb->text = text;
        sb->capacity = capacity;
    }
    memcpy(sb->text + sb->length, s, n);
    sb->length += n;
    sb->text[sb->length] = '\0';
}

static void sb_append(strbuf *sb, const char *s)
{
    sb_append_n(sb, s, strlen(s));
}

static void sb_spaces(strbuf *sb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_append_n(sb, " ", 1);
}

static void sb_rstrip(strbuf *sb)
{
    while (sb->length > 0 && (sb->text[sb->length - 1] == ' ' || sb->text[sb->length - 1] == '\n'))
        sb->length--;
    if (sb->text)
        sb->text[sb->length] = '\0';
}

static size_t rstrip_length(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
        n--;
    return n;
}

/* snprintf that may truncate silently: every caller's text is bounded by
 * the formats above (ELEMENT_CAPACITY covers the widest element). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
format_text(char *out, size_t capacity, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(out, capacity, format, args);
    va_end(args);
}

/* ---- digits ---- */

/* The shortest decimal that reads back as x (x finite, nonzero or zero):
 * digits without the point into `digits`, returns their count, sets *exp10
 * so that x = d.ddd * 10^exp10. Among strings of that length the correctly
 * rounded one, which is what Python's repr and numpy's Dragon4 print. */
static int shortest_digits(double x, char *digits, int *exp10)
{
    char buffer[64];
    for (int precision = 0; precision <= 16; precision++) {
        snprintf(buffer, sizeof buffer, "%.*e", precision, fabs(x));
        if (strtod(buffer, NULL) == fabs(x) || precision == 16) {
            int count = 0;
            const char *p = buffer;
            for (; *p && *p != 'e'; p++)
                if (*p >= '0' && *p <= '9')
                    digits[count++] = *p;
            digits[count] = '\0';
            *exp10 = atoi(p + 1);
            /* %.0e of a zero still says "0e+00"; trailing zeros can only come
             * from a shorter string that did not round-trip, never here. */
            return count;
        }
    }
    return 0; /* unreachable: 17 digits always round-trip */
}

/* numpy >= 1.14 positional 'maxprec': the shortest round-trip digits when
 * they need at most `precision` digits after the point, else the value
 * rounded to `precision` digits with trailing zeros trimmed ("0." kept). */
static void positional_maxprec(double x, int precision, char *int_part, char *frac_part)
{
    char digits[32];
    int exp10;
    int count = shortest_digits(x, digits, &exp10);
    int fraction_digits = count - 1 - exp10;
    char buffer[400];
    if (fraction_digits <= precision) {
        /* Lay the digits out around the point. */
        size_t n = 0;
        if (signbit(x))
            buffer[n++] = '-';
        if (exp10 < 0) {
            buffer[n++] = '0';
            buffer[n++] = '.';
            for (int i = 0; i < -exp10 - 1; i++)
                buffer[n++] = '0';
            for (int i = 0; i < count; i++)
                buffer[n++] = digits[i];
        } else {
            for (int i = 0; i <= exp10; i++)
                buffer[n++] = i < count ? digits[i] : '0';
            buffer[n++] = '.';
            for (int i = exp10 + 1; i < count; i++)
                buffer[n++] = digits[i];
        }
        buffer[n] = '\0';
    } else {
        snprintf(buffer, sizeof buffer, "%.*f", precision, x);
        size_t n = strlen(buffer);
        while (n > 0 && buffer[n - 1] == '0')
            n--;
        buffer[n] = '\0';
    }
    char *point = strchr(buffer, '.');
    *point = '\0';
    strcpy(int_part, buffer);
    strcpy(frac_part, point + 1);
}

/* ---- element formatters: every element gets the same width ---- */

typedef struct nonzero_range {
    int any_nonzero;
    int any_special;
    double min_abs;
    double max_abs;
} nonzero_range;

static nonzero_range scan(const double *data, size_t n)
{
    nonzero_range r = {0, 0, 0.0, 0.0};
    for (size_t i = 0; i < n; i++) {
        double x = data[i];
        if (!isfinite(x)) {
            r.any_special = 1;
            continue;
        }
        if (x == 0.0)
            continue;
        double a = fabs(x);
        if (!r.any_nonzero || a < r.min_abs)
            r.min_abs = a;
        if (!r.any_nonzero || a > r.max_abs)
            r.max_abs = a;
        r.any_nonzero = 1;
    }
    return r;
}

static int wants_exp_format(nonzero_range r)
{
    /* numpy's rule with suppress_small off. */
    return r.any_nonzero && (r.max_abs >= 1e8 || r.min_abs < 0.0001 || r.max_abs / r.min_abs > 1000.0);
}

static const char *special_name(double x)
{
    if (isnan(x))
        return "nan";
    return x > 0 ? "inf" : "-inf";
}

/* nan and inf as numpy prints them in a column of width characters;
 * returns whether x was one. */
static int format_special(char *out, int width, double x)
{
    if (isfinite(x))
        return 0;
    format_text(out, ELEMENT_CAPACITY, "%*s", width, special_name(x));
    return 1;
}

/* numpy 1.13 FloatFormat. */
static void format_legacy(const double *data, size_t n, char (*out)[ELEMENT_CAPACITY])
{
    nonzero_range r = scan(data, n);
    if (wants_exp_format(r)) {
        int large_exponent = (r.min_abs > 0 && r.min_abs < 1e-99) || r.max_abs >= 1e100;
        int width = 8 + PRECISION + large_exponent;
        for (size_t i = 0; i < n; i++) {
            if (format_special(out[i], width, data[i]))
                continue;
            char s[ELEMENT_CAPACITY];
            snprintf(s, sizeof s, "%*.*e", width, PRECISION, data[i]);
            size_t len = strlen(s);
            if (large_exponent && (s[len - 3] == '+' || s[len - 3] == '-')) {
                /* Two-digit exponent among three-digit ones: widen it. */
                format_text(out[i], ELEMENT_CAPACITY, "%.*s0%s", (int)(len - 3), s + 1, s + len - 2);
            } else {
                strcpy(out[i], s);
            }
        }
        return;
    }
    int precision = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(data[i]) || data[i] == 0.0)
            continue;
        char s[400];
        snprintf(s, sizeof s, "%.*f", PRECISION, fabs(data[i]));
        size_t len = strlen(s), stripped = len;
        while (stripped > 0 && s[stripped - 1] == '0')
            stripped--;
        int digits = PRECISION - (int)(len - stripped);
        if (digits > precision)
            precision = digits;
    }
    char int_text[400];
    snprintf(int_text, sizeof int_text, "%.0f", trunc(r.max_abs));
    int width = (int)strlen(int_text) + precision + 2;
    if (r.any_special && width < 4)
        width = 4;
    for (size_t i = 0; i < n; i++) {
        if (format_special(out[i], width, data[i]))
            continue;
        char *s = out[i];
        format_text(s, ELEMENT_CAPACITY, "%#*.*f", width, precision, data[i]);
        /* numpy 1.13 turns trailing zeros into spaces to keep columns. */
        size_t len = strlen(s), stripped = len;
        while (stripped > 0 && s[stripped - 1] == '0')
            stripped--;
        for (size_t k = stripped; k < len; k++)
            s[k] = ' ';
    }
}

/* numpy >= 1.14 FloatingFormat, floatmode 'maxprec', sign '-'. */
static void format_modern(const double *data, size_t n, char (*out)[ELEMENT_CAPACITY])
{
    nonzero_range r = scan(data, n);
    if (wants_exp_format(r)) {
        int precision = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(data[i]))
                continue;
            char digits[32];
            int exp10;
            int count = shortest_digits(data[i], digits, &exp10);
            int fraction = count - 1 > PRECISION ? PRECISION : count - 1;
            if (fraction > precision)
                precision = fraction;
        }
        int pad_left = 1, exp_size = 2;
        char(*body)[ELEMENT_CAPACITY] = out;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(data[i]))
                continue;
            format_text(body[i], ELEMENT_CAPACITY, "%#.*e", precision, data[i]);
            const char *e = strchr(body[i], 'e');
            if ((int)strlen(e + 2) > exp_size)
                exp_size = (int)strlen(e + 2);
            if (data[i] < 0 || signbit(data[i]))
                pad_left = 2;
        }
        int width = pad_left + 1 + precision + 2 + exp_size;
        for (size_t i = 0; i < n; i++) {
            if (format_special(out[i], width, data[i]))
                continue;
            char mantissa[ELEMENT_CAPACITY];
            char *e = strchr(body[i], 'e');
            *e = '\0';
            strcpy(mantissa, body[i]);
            char sign = e[1];
            int exponent = atoi(e + 2);
            format_text(out[i], ELEMENT_CAPACITY, "%*se%c%0*d", pad_left + 1 + precision, mantissa, sign, exp_size,
                        exponent);
        }
        return;
    }
    int pad_left = 0, pad_right = 0, any_finite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(data[i]))
            continue;
        char int_part[400], frac_part[400];
        positional_maxprec(data[i], PRECISION, int_part, frac_part);
        if ((int)strlen(int_part) > pad_left)
            pad_left = (int)strlen(int_part);
        if ((int)strlen(frac_part) > pad_right)
            pad_right = (int)strlen(frac_part);
        any_finite = 1;
    }
    int width = any_finite ? pad_left + 1 + pad_right : 0;
    if (r.any_special && width < 4)
        width = 4;
    for (size_t i = 0; i < n; i++) {
        if (format_special(out[i], width, data[i]))
            continue;
        char int_part[400], frac_part[400];
        positional_maxprec(data[i], PRECISION, int_part, frac_part);
        format_text(out[i], ELEMENT_CAPACITY, "%*s.%-*s", pad_left, int_part, pad_right, frac_part);
    }
}

/* ---- layout ---- */

typedef struct layout {
    char (*elements)[ELEMENT_CAPACITY];
    const size_t *shape;
    int ndim;
} layout;

static size_t block_size(const layout *lay, int axis)
{
    size_t size = 1;
    for (int k = axis; k < lay->ndim; k++)
        size *= lay->shape[k];
    return size;
}

/* numpy 1.13 _formatArray: returns the text with a trailing newline. */
static void legacy_block(const layout *lay, int axis, size_t offset, size_t prefix, strbuf *out)
{
    size_t n = lay->shape[axis];
    int rank = lay->ndim - axis;
    if (rank == 1) {
        strbuf s = {0}, line = {0};
        sb_spaces(&line, prefix);
        for (size_t i = 0; i < n; i++) {
            char word[ELEMENT_CAPACITY + 2];
            format_text(word, sizeof word, "%s%s", lay->elements[offset + i], i + 1 < n ? " " : "");
            size_t needed = rstrip_length(line.text, line.length) + rstrip_length(word, strlen(word));
            if (needed >= LINE_WIDTH) {
                sb_append_n(&s, line.text, rstrip_length(line.text, line.length));
                sb_append(&s, "\n");
                line.length = 0;
                sb_spaces(&line, prefix);
            }
            sb_append(&line, word);
        }
        sb_append_n(&s, line.text, line.length);
        sb_append(&s, "]\n");
        sb_append(out, "[");
        if (s.text)
            sb_append(out, s.text + prefix);
        out->out_of_memory |= s.out_of_memory | line.out_of_memory;
        free(s.text);
        free(line.text);
        return;
    }
    size_t stride = block_size(lay, axis + 1);
    strbuf s = {0};
    sb_append(&s, "[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sb_spaces(&s, prefix);
        legacy_block(lay, axis + 1, offset + i * stride, prefix + 1, &s);
        sb_rstrip(&s);
        if (i + 1 < n) {
            for (int k = 0; k < (rank - 1 > 1 ? rank - 1 : 1); k++)
                sb_append(&s, "\n");
        }
    }
    sb_append(&s, "]\n");
    if (s.text)
        sb_append(out, s.text);
    out->out_of_memory |= s.out_of_memory;
    free(s.text);
}

/* numpy >= 1.14 _formatArray's recurser (no trailing newline). */
static void modern_block(const layout *lay, int axis, size_t offset, size_t hanging_indent, size_t width, strbuf *out)
{
    size_t n = lay->shape[axis];
    int axes_left = lay->ndim - axis;
    strbuf s = {0};
    if (axes_left == 1) {
        size_t element_width = width - 1; /* room for the closing ']' */
        strbuf line = {0};
        sb_spaces(&line, hanging_indent);
        for (size_t i = 0; i < n; i++) {
            const char *word = lay->elements[offset + i];
            int needs_wrap = line.length + strlen(word) > element_width && line.length > hanging_indent;
            if (needs_wrap) {
                sb_append_n(&s, line.text, rstrip_length(line.text, line.length));
                sb_append(&s, "\n");
                line.length = 0;
                sb_spaces(&line, hanging_indent);
            }
            sb_append(&line, word);
            if (i + 1 < n)
                sb_append(&line, " ");
        }
        sb_append_n(&s, line.text, line.length);
        s.out_of_memory |= line.out_of_memory;
        free(line.text);
    } else {
        size_t stride = block_size(lay, axis + 1);
        for (size_t i = 0; i < n; i++) {
            sb_spaces(&s, hanging_indent);
            modern_block(lay, axis + 1, offset + i * stride, hanging_indent + 1, width - 1, &s);
            if (i + 1 < n)
                for (int k = 0; k < axes_left - 1; k++)
                    sb_append(&s, "\n");
        }
    }
    sb_append(out, "[");
    if (s.text)
        sb_append(out, s.text + hanging_indent);
    sb_append(out, "]");
    out->out_of_memory |= s.out_of_memory;
    free(s.text);
}

static char *lay_out(layout *lay, numpy_print_style style)
{
    strbuf out = {0};
    if (style == NUMPY_PRINT_LEGACY) {
        legacy_block(lay, 0, 0, 1, &out);
        if (!out.out_of_memory && out.length > 0)
            out.text[--out.length] = '\0'; /* numpy drops the last newline */
    } else {
        modern_block(lay, 0, 0, 1, LINE_WIDTH, &out);
    }
    if (out.out_of_memory) {
        free(out.text);
        return NULL;
    }
    return out.text;
}

/* Room for the elements of an array of this shape; returns their count.
 * lay->elements is NULL when there are none or memory ran out. */
static size_t layout_init(layout *lay, const size_t *shape, int ndim)
{
    size_t n = 1;
    for (int k = 0; k < ndim; k++)
        n *= shape[k];
    lay->elements = n ? malloc(n * sizeof *lay->elements) : NULL;
    lay->shape = shape;
    lay->ndim = ndim;
    return n;
}

/* What numpy prints for an array without elements, in either style. */
static char *empty_array_str(void)
{
    char *empty = malloc(3);
    if (empty)
        strcpy(empty, "[]");
    return empty;
}

char *numpy_array_str(const double *data, const size_t *shape, int ndim, numpy_print_style style)
{
    layout lay;
    size_t n = layout_init(&lay, shape, ndim);
    if (!lay.elements)
        return n == 0 ? empty_array_str() : NULL;
    if (style == NUMPY_PRINT_LEGACY)
        format_legacy(data, n, lay.elements);
    else
        format_modern(data, n, lay.elements);
    char *text = lay_out(&lay, style);
    free(lay.elements);
    return text;
}

char *numpy_bool_array_str(const double *data, const size_t *shape, int ndim)
{
    layout lay;
    size_t n = layout_init(&lay, shape, ndim);
    if (!lay.elements)
        return n == 0 ? empty_array_str() : NULL;
    for (size_t i = 0; i < n; i++)
        strcpy(lay.elements[i], data[i] != 0.0 ? " True" : "False");
    /* Both styles lay out bool arrays alike; the modern wrap rule is the
     * simpler one to reuse. */
    char *text = lay_out(&lay, NUMPY_PRINT_MODERN);
    free(lay.elements);
    return text;
}

void numpy_scalar_str(double x, numpy_print_style style, char *out, size_t capacity)
{
    if (!isfinite(x)) {
        snprintf(out, capacity, "%s", special_name(x));
        return;
    }
    if (style == NUMPY_PRINT_LEGACY) {
        /* Python 2's str(float): 12 significant digits, ".0" on integers. */
        snprintf(out, capacity, "%.12g", x);
        if (!strpbrk(out, ".e"))
            strncat(out, ".0", capacity - strlen(out) - 1);
        return;
    }
    /* Python 3's repr(float). */
    char digits[32];
    int exp10;
    int count = shortest_digits(x, digits, &exp10);
    const char *sign = signbit(x) ? "-" : "";
    if (x != 0.0 && (exp10 < -4 || exp10 >= 16)) {
        format_text(out, capacity, "%s%c%s%.*s%se%c%02d", sign, digits[0], count > 1 ? "." : "", count - 1, digits + 1,
                    "", exp10 < 0 ? '-' : '+', abs(exp10));
        return;
    }
    char int_part[400], frac_part[400];
    positional_maxprec(x, 17, int_part, frac_part);
    format_text(out, capacity, "%s.%s", int_part, frac_part[0] ? frac_part : "0");
}

void numpy_shape_str(const size_t *shape, int ndim, char *out, size_t capacity)
{
    size_t used = 0;
    out[0] = '\0';
    used += (size_t)snprintf(out, capacity, "(");
    for (int k = 0; k < ndim && used < capacity; k++)
        used += (size_t)snprintf(out + used, capacity - used, "%s%zu", k ? ", " : "", shape[k]);
    if (used < capacity)
        snprintf(out + used, capacity - used, ndim == 1 ? ",)" : ")");
}

static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++)
            sum += a[i];
        return sum;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            sum += a[i];
        return sum;
    }
    size_t half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

double numpy_mean(const double *data, size_t n)
{
    return n ? (0.0 + pairwise_sum(data, n)) / (double)n : NAN;
}
