/* Device tests of the 16-bit dtypes (CLCNN_FLOAT16, CLCNN_BFLOAT16): tensors
 * holding their bits as they are, and the refusal, before anything is
 * enqueued, of the ops that do not take them yet. The host's reference
 * formats are the kit's (kit_float16_from_double and its kin), written in
 * double arithmetic apart from the kernels' bit manipulations. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_cl.h"
#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

static const clcnn_dtype dtypes16[] = {CLCNN_FLOAT16, CLCNN_BFLOAT16};
#define DTYPES16 2

/* ---- tensors ---- */

/* Every bit pattern, written and read back: 2 bytes an element, untouched. */
START_TEST(test_tensor_holds_bits)
{
    const clcnn_dtype dtype = dtypes16[_i];
    const size_t dims[4] = {1, 256, 256, 1}, n = 65536;
    uint16_t *bits = test_alloc(n * sizeof *bits), *back = test_alloc(n * sizeof *back);
    for (size_t i = 0; i < n; i++)
        bits[i] = (uint16_t)i;
    clcnn_tensor *t = NULL;
    TEST_OK(ctx, clcnn_tensor_create(ctx, dtype, dims, &t));
    ck_assert_int_eq(clcnn_tensor_dtype(t), dtype);
    ck_assert(clcnn_context_supports_dtype(ctx, dtype));
    TEST_OK(ctx, clcnn_tensor_write(t, bits, n * 2));
    TEST_OK(ctx, clcnn_tensor_read(t, back, n * 2));
    size_t first_bad = n;
    for (size_t i = 0; i < n && first_bad == n; i++)
        if (back[i] != bits[i])
            first_bad = i;
    /* The size is the dtype's: 4 bytes an element is refused. */
    clcnn_status wrong = clcnn_tensor_write(t, bits, n * 4);
    int names_size = strstr(clcnn_context_last_error(ctx), "131072 bytes") != NULL;
    clcnn_tensor_destroy(t);
    TEST_FREE(bits, back);
    ck_assert_msg(first_bad == n, "%s: element %zu read back as 0x%04x", kit_dtype_name(dtype), first_bad,
                  first_bad < n ? (unsigned)back[first_bad] : 0u);
    ck_assert_int_eq(wrong, CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_msg(names_size, "message: %s", clcnn_context_last_error(ctx));
}
END_TEST

/* The kit's formats against values worked out by hand: the references of
 * every other test here. */
START_TEST(test_kit_formats)
{
    static const struct {
        double value;
        uint16_t f16, bf16;
    } known[] = {
        {1.0, 0x3c00, 0x3f80},
        {-2.0, 0xc000, 0xc000},
        {65504.0, 0x7bff, 0x4780},         /* bfloat16: 255.875 steps of 2^8, up to 2^16 */
        {65519.0, 0x7bff, 0x4780},         /* below float16's halfway to 2^16 */
        {65520.0, 0x7c00, 0x4780},         /* the tie: to even, 2^16, infinity */
        {0x1p-24, 0x0001, 0x3380},         /* float16's smallest subnormal */
        {0x1p-25, 0x0000, 0x3300},         /* its half: a tie, to even (0) */
        {0x1.8p-24, 0x0002, 0x33c0},       /* 1.5 steps: a tie, to even (2) */
        {1.0 + 0x1p-11, 0x3c00, 0x3f80},   /* float16 tie, to even */
        {1.0 + 0x1.8p-10, 0x3c02, 0x3f80}, /* 1.5 steps: to even (2) */
        {1.0 + 0x1p-8, 0x3c04, 0x3f80},    /* bfloat16 tie, to even */
        {1.0 + 0x1.8p-7, 0x3c0c, 0x3f82},  /* 1.5 steps of bfloat16: up to even */
        {0x1p-133, 0x0000, 0x0001},        /* bfloat16's smallest subnormal */
        {-0.0, 0x8000, 0x8000},
        {INFINITY, 0x7c00, 0x7f80},
        {-INFINITY, 0xfc00, 0xff80},
        {0x1.ffp127, 0x7c00, 0x7f80}, /* bfloat16's halfway to 2^128: to even, infinity */
    };
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        ck_assert_msg(kit_float16_from_double(known[k].value) == known[k].f16, "float16 of %a: 0x%04x, want 0x%04x",
                      known[k].value, kit_float16_from_double(known[k].value), known[k].f16);
        ck_assert_msg(kit_bfloat16_from_double(known[k].value) == known[k].bf16, "bfloat16 of %a: 0x%04x, want 0x%04x",
                      known[k].value, kit_bfloat16_from_double(known[k].value), known[k].bf16);
    }
    ck_assert(isnan(kit_float16_to_double(kit_float16_from_double(NAN))));
    ck_assert(isnan(kit_bfloat16_to_double(kit_bfloat16_from_double(-NAN))));
    /* Every non-NaN pattern decodes to a value that encodes back to it. */
    for (unsigned b = 0; b < 65536; b++) {
        const double f = kit_float16_to_double((uint16_t)b), g = kit_bfloat16_to_double((uint16_t)b);
        ck_assert_msg(isnan(f) || kit_float16_from_double(f) == b, "float16 0x%04x", b);
        ck_assert_msg(isnan(g) || kit_bfloat16_from_double(g) == b, "bfloat16 0x%04x", b);
    }
}
END_TEST

/* ---- clcnn_tensor_convert ---- */

/* Converts n elements of raw host data `in` (dtype from) on the device and
 * reads the result into out (dtype to). */
static void convert_raw(clcnn_dtype from, clcnn_dtype to, size_t n, const void *in, void *out)
{
    const size_t dims[4] = {1, 1, 1, n};
    clcnn_tensor *src = NULL, *dst = NULL;
    TEST_OK(ctx, clcnn_tensor_create(ctx, from, dims, &src));
    TEST_OK(ctx, clcnn_tensor_create(ctx, to, dims, &dst));
    TEST_OK(ctx, clcnn_tensor_write(src, in, n * kit_dtype_size(from)));
    TEST_OK(ctx, clcnn_tensor_convert(ctx, src, dst));
    TEST_OK(ctx, clcnn_tensor_read(dst, out, n * kit_dtype_size(to)));
    TEST_DESTROY(src, dst);
}

static uint16_t to16(clcnn_dtype dtype, double value)
{
    return dtype == CLCNN_FLOAT16 ? kit_float16_from_double(value) : kit_bfloat16_from_double(value);
}
static double from16(clcnn_dtype dtype, uint16_t bits)
{
    return dtype == CLCNN_FLOAT16 ? kit_float16_to_double(bits) : kit_bfloat16_to_double(bits);
}

/* Whether the device's 16 bits are the kit's: the same bits, or both NaN
 * (a NaN's payload is the device's to choose; its sign is kept). */
static int same16(clcnn_dtype dtype, uint16_t got, uint16_t want)
{
    const double g = from16(dtype, got), w = from16(dtype, want);
    return got == want || (isnan(g) && isnan(w) && (got & 0x8000) == (want & 0x8000));
}

/* Every 16-bit pattern into float32 (exact), float64 (exact) where the
 * device has it, and the other 16-bit format (rounded once), then back:
 * float32 to 16 bits gives the pattern again. */
START_TEST(test_convert_every_pattern)
{
    const clcnn_dtype dtype = dtypes16[_i], other = dtypes16[1 - _i];
    const size_t n = 65536;
    uint16_t *bits = test_alloc(n * 2), *back = test_alloc(n * 2), *across = test_alloc(n * 2);
    float *f = test_alloc(n * sizeof *f);
    double *d = test_alloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        bits[i] = (uint16_t)i;
    convert_raw(dtype, CLCNN_FLOAT32, n, bits, f);
    convert_raw(CLCNN_FLOAT32, dtype, n, f, back);
    convert_raw(dtype, other, n, bits, across);
    const int fp64 = clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64);
    if (fp64)
        convert_raw(dtype, CLCNN_FLOAT64, n, bits, d);
    size_t bad = n;
    const char *what = "";
    for (size_t i = 0; i < n && bad == n; i++) {
        const double want = from16(dtype, bits[i]);
        if (!(f[i] == want || (isnan(f[i]) && isnan(want))) || (f[i] == 0 && !signbit(f[i]) != !signbit(want)))
            bad = i, what = "to float32";
        else if (fp64 && !(d[i] == want || (isnan(d[i]) && isnan(want))))
            bad = i, what = "to float64";
        else if (!same16(dtype, back[i], bits[i]))
            bad = i, what = "to float32 and back";
        else if (!same16(other, across[i], to16(other, want)))
            bad = i, what = "to the other 16-bit format";
    }
    const unsigned got_back = bad < n ? back[bad] : 0, got_across = bad < n ? across[bad] : 0;
    const double got_f = bad < n ? f[bad] : 0;
    TEST_FREE(bits, back, across, f, d);
    ck_assert_msg(bad == n, "%s 0x%04zx %s: float32 %a, back 0x%04x, %s 0x%04x (want 0x%04x)", kit_dtype_name(dtype),
                  bad, what, got_f, got_back, kit_dtype_name(other), got_across,
                  bad < n ? to16(other, from16(dtype, (uint16_t)bad)) : 0);
}
END_TEST

/* float32 values around every 16-bit value: the value, the midpoints to
 * its neighbours (ties: to even), one float ulp either side of them, and
 * the specials; rounded by the device and by the kit. */
static size_t float32_probes(clcnn_dtype dtype, float *out)
{
    size_t n = 0;
    for (unsigned b = 0; b < 65536; b++) {
        const double v = from16(dtype, (uint16_t)b), next = from16(dtype, (uint16_t)(b + 1));
        if (isnan(v))
            continue;
        out[n++] = (float)v;
        if ((b & 0x7fff) >= 0x7c00 && dtype == CLCNN_FLOAT16)
            continue; /* infinity: no next value */
        const double mid = isinf(next) || isnan(next) ? v + (v - from16(dtype, (uint16_t)(b - 1))) / 2 : (v + next) / 2;
        const float m = (float)mid; /* exact: a float holds every midpoint */
        out[n++] = m;
        out[n++] = nextafterf(m, 0.0f);
        out[n++] = nextafterf(m, m > 0 ? INFINITY : -INFINITY);
    }
    const float specials[] = {INFINITY,      -INFINITY,      NAN,       -NAN,       FLT_MAX,
                              -FLT_MAX,      FLT_MIN,        0x1p-149f, -0x1p-149f, 0x1.fffffep-127f,
                              0x1.fffep127f, 0x1.ffefffp15f, 65520.0f,  1e-8f,      -0.0f};
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++)
        out[n++] = specials[k];
    return n;
}

START_TEST(test_convert_float32_rounds)
{
    const clcnn_dtype dtype = dtypes16[_i];
    float *in = test_alloc(65536 * 4 * sizeof *in + 64 * sizeof *in);
    const size_t n = float32_probes(dtype, in);
    uint16_t *got = test_alloc(n * 2);
    convert_raw(CLCNN_FLOAT32, dtype, n, in, got);
    size_t bad = n;
    for (size_t i = 0; i < n && bad == n; i++)
        if (!same16(dtype, got[i], to16(dtype, in[i])))
            bad = i;
    const float value = bad < n ? in[bad] : 0;
    const unsigned device = bad < n ? got[bad] : 0;
    TEST_FREE(in, got);
    ck_assert_msg(bad == n, "float32 %a (index %zu) to %s: device 0x%04x, reference 0x%04x", (double)value, bad,
                  kit_dtype_name(dtype), device, to16(dtype, value));
}
END_TEST

/* float64 straight to 16 bits: the midpoints, and a hair (2^-40 relative)
 * either side of them, which float cannot hold: through float they would
 * become ties and round to even, half of them the wrong way. */
START_TEST(test_convert_float64_rounds_once)
{
    const clcnn_dtype dtype = dtypes16[_i];
    if (!test_dtype_usable(ctx, CLCNN_FLOAT64, "convert_float64_rounds_once"))
        return;
    double *in = test_alloc(65536 * 4 * sizeof *in);
    size_t n = 0;
    for (unsigned b = 0; b < 65536; b++) {
        const double v = from16(dtype, (uint16_t)b), next = from16(dtype, (uint16_t)(b + 1));
        if (isnan(v) || isnan(next) || isinf(next) || isinf(v) || (b & 0x7fff) == 0x7fff)
            continue;
        const double mid = (v + next) / 2, hair = fabs(mid) * 0x1p-40 + 0x1p-1074;
        in[n++] = v;
        in[n++] = mid;
        in[n++] = mid + hair;
        in[n++] = mid - hair;
    }
    uint16_t *got = test_alloc(n * 2);
    convert_raw(CLCNN_FLOAT64, dtype, n, in, got);
    size_t bad = n, wrong = 0;
    for (size_t i = 0; i < n; i++)
        if (!same16(dtype, got[i], to16(dtype, in[i])) && wrong++ == 0)
            bad = i;
    const double value = bad < n ? in[bad] : 0;
    const unsigned device = bad < n ? got[bad] : 0;
    TEST_FREE(in, got);
    ck_assert_msg(wrong == 0, "%zu wrong; first: float64 %a (index %zu) to %s: device 0x%04x, reference 0x%04x", wrong,
                  value, bad, kit_dtype_name(dtype), device, to16(dtype, value));
}
END_TEST

/* The float32 <-> float64 pairs too (rounding to nearest), and the
 * conversion's validation. */
START_TEST(test_convert_validates)
{
    const size_t dims[4] = {1, 2, 3, 4}, other_dims[4] = {1, 2, 3, 5};
    clcnn_tensor *a = test_tensor_from(ctx, CLCNN_FLOAT16, dims, NULL);
    clcnn_tensor *b = test_tensor_out(ctx, CLCNN_BFLOAT16, other_dims);
    const char *op = "tensor_convert";
    TEST_FAILS_WITH(ctx, clcnn_tensor_convert(ctx, a, b), CLCNN_ERROR_SHAPE, op);
    TEST_MESSAGE_HAS(ctx, "dst");
    TEST_FAILS_WITH(ctx, clcnn_tensor_convert(ctx, a, a), CLCNN_ERROR_INVALID_ARGUMENT, "dst is also src");
    TEST_FAILS_WITH(ctx, clcnn_tensor_convert(ctx, NULL, b), CLCNN_ERROR_INVALID_ARGUMENT, "src is NULL");
    TEST_FAILS_WITH(ctx, clcnn_tensor_convert(ctx, a, NULL), CLCNN_ERROR_INVALID_ARGUMENT, "dst is NULL");
    clcnn_context *other = NULL;
    TEST_OK(ctx, clcnn_context_create(NULL, &other));
    clcnn_tensor *foreign = test_tensor_out(other, CLCNN_FLOAT32, dims);
    TEST_FAILS_WITH(ctx, clcnn_tensor_convert(ctx, a, foreign), CLCNN_ERROR_INVALID_ARGUMENT, "another context");
    TEST_DESTROY(a, b, foreign);
    clcnn_context_destroy(other);
    if (!test_dtype_usable(ctx, CLCNN_FLOAT64, "convert_validates/float64"))
        return;
    const double values[] = {1.0 / 3.0, -0x1.000001p0, 0x1.0000008p0, 0x1.0000018p0, 1e300, -1e-300, NAN};
    const size_t n = sizeof values / sizeof values[0];
    float f[7];
    double d[7];
    convert_raw(CLCNN_FLOAT64, CLCNN_FLOAT32, n, values, f);
    convert_raw(CLCNN_FLOAT32, CLCNN_FLOAT64, n, f, d);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(f[i] == (float)values[i] || (isnan(f[i]) && isnan(values[i])), "float64 %a to float32: %a",
                      values[i], (double)f[i]);
        ck_assert_msg(d[i] == (double)f[i] || isnan(d[i]), "float32 %a to float64: %a", (double)f[i], d[i]);
    }
}
END_TEST

/* ---- the element-wise ops in 16 bits ---- */

/* The absolute term of the bound (docs/tolerance.md): the storage's
 * smallest subnormal step, or float's smallest normal where the device
 * flushes float denormals (CL_DEVICE_SINGLE_FP_CONFIG without
 * CL_FP_DENORM) and so may lose bfloat16's subnormals, which are float's. */
static double storage_tiny(clcnn_dtype dtype)
{
    cl_device_id device = NULL;
    cl_device_fp_config config = 0;
    clGetCommandQueueInfo(clcnn_context_queue(ctx), CL_QUEUE_DEVICE, sizeof device, &device, NULL);
    clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof config, &config, NULL);
    if (dtype == CLCNN_BFLOAT16 && !(config & CL_FP_DENORM))
        return FLT_MIN;
    return kit_dtype_storage_tiny(dtype);
}

/* Compares n values of a 16-bit output with the double reference: terms
 * NULL, equal (NaN with NaN, the sign of zero too); else within
 * kit_storage_error's bound B + u (|ref| + B) + tiny, B = KIT_TOLERANCE
 * eps32 terms[i], or an infinity where the float result overflows the
 * storage. Prints the case, index, values and seed of the first few
 * failures; returns how many failed. */
static size_t check16(const char *name, const char *what, clcnn_dtype dtype, const double *got, const double *ref,
                      const double *terms, size_t n, uint64_t seed)
{
    const double tiny = terms ? storage_tiny(dtype) : 0.0;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double error = 0.0;
        int ok;
        if (isnan(got[i]) || isnan(ref[i]))
            ok = isnan(got[i]) && isnan(ref[i]);
        else if (terms == NULL) /* exact, the sign of a zero too */
            ok = got[i] == ref[i] && !signbit(got[i]) == !signbit(ref[i]);
        else
            ok = (error = kit_storage_error(dtype, got[i], ref[i], terms[i], tiny)) <= KIT_TOLERANCE;
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: %s[%zu] = %a, reference %a, error %.3g (limit %g) (seed 0x%llx)\n", name, what, i,
                    got[i], ref[i], error, KIT_TOLERANCE, (unsigned long long)seed);
    }
    return bad;
}

/* Values of every kind a 16-bit tensor holds: normal ones, zeros of both
 * signs, subnormals of the storage, ones as large as `big` (rounded), and
 * (with specials) infinities and NaN, all exactly representable. */
static double *values16(kit_rng *rng, clcnn_dtype dtype, size_t n, int specials, double big)
{
    double *v = test_random_doubles(rng, dtype, KIT_NORMAL, n);
    const double tiny = kit_dtype_storage_tiny(dtype), max = big;
    for (size_t i = 0; i < n; i++) {
        switch (kit_rng_below(rng, 16)) {
        case 0: v[i] = kit_rng_below(rng, 2) ? 0.0 : -0.0; break;
        case 1: v[i] = tiny * (double)(1 + kit_rng_below(rng, 500)) * (kit_rng_below(rng, 2) ? 1 : -1); break;
        case 2: v[i] = kit_rng_below(rng, 2) ? max : -max; break;
        case 3:
            if (specials)
                v[i] = kit_rng_below(rng, 3) == 0 ? NAN : kit_rng_below(rng, 2) ? INFINITY : -INFINITY;
            break;
        default: break;
        }
        v[i] = kit_round_to_dtype(dtype, v[i]);
    }
    return v;
}

/* The largest finite value. */
#define LARGEST16(dtype) ((dtype) == CLCNN_FLOAT16 ? 65504.0 : 0x1.fep127)
/* SGD's large values: float16's overflow the storage (to infinity, as they
 * should); bfloat16's would overflow float's arithmetic itself first, which
 * no bound covers, so they stay far below it. */
#define SGD_BIG(dtype) ((dtype) == CLCNN_FLOAT16 ? 60000.0 : 0x1p100)

typedef struct shape16 {
    const char *name;
    size_t dims[4];
} shape16;
/* Partial vectors, a tensor past one work-group, one large enough for the
 * element-wise kernels' streaming stores in float32. */
static const shape16 shapes16[] = {
    {"one", {1, 1, 1, 1}}, {"c7", {2, 3, 5, 7}}, {"c33", {3, 17, 19, 33}}, {"big_8x64x64x64", {8, 64, 64, 64}}};
#define SHAPES16 ((int)(sizeof shapes16 / sizeof shapes16[0]))

/* Run _i: shape _i / 2 in dtypes16[_i % 2]. */
#define CASE16(c, dtype, name, seed)                                                                                   \
    const shape16 *c = &shapes16[_i / DTYPES16];                                                                       \
    const clcnn_dtype dtype = dtypes16[_i % DTYPES16];                                                                 \
    char name[96];                                                                                                     \
    snprintf(name, sizeof name, "%s/%s", c->name, kit_dtype_name(dtype));                                              \
    const uint64_t seed = test_case_seed((unsigned)(2300 + _i));                                                       \
    if (test_skip_big_case(c->name))                                                                                   \
        return;                                                                                                        \
    kit_rng rng;                                                                                                       \
    kit_rng_init(&rng, seed)

/* Whether a second run of `call` writes the same bytes into t. */
#define SAME_BITS_AGAIN(t, call, same)                                                                                 \
    do {                                                                                                               \
        size_t bytes_;                                                                                                 \
        void *first_ = test_tensor_get_raw(ctx, t, &bytes_);                                                           \
        TEST_OK(ctx, call);                                                                                            \
        same = test_raw_equal(ctx, t, first_, bytes_);                                                                 \
        free(first_);                                                                                                  \
    } while (0)

/* ReLU both ways: selections, so exact; NaN, infinities, -0 and
 * subnormals pass through as they are. */
START_TEST(test_relu16)
{
    CASE16(c, dtype, name, seed);
    const size_t n = kit_elements(c->dims);
    double *x = values16(&rng, dtype, n, 1, LARGEST16(dtype)), *dy = values16(&rng, dtype, n, 1, LARGEST16(dtype));
    double *ref = test_alloc_doubles(n), *got = test_alloc_doubles(n);
    clcnn_tensor *tx = test_tensor_from(ctx, dtype, c->dims, x), *ty = test_tensor_out(ctx, dtype, c->dims);
    clcnn_tensor *tdy = test_tensor_from(ctx, dtype, c->dims, dy), *tdx = test_tensor_out(ctx, dtype, c->dims);
    size_t bad = 0;
    int same_y, same_dx;
    TEST_OK(ctx, clcnn_relu_forward(ctx, tx, ty));
    test_tensor_get(ctx, ty, got);
    clcnn_ref_relu_forward(x, n, ref);
    bad += check16(name, "relu_forward y", dtype, got, ref, NULL, n, seed);
    TEST_OK(ctx, clcnn_relu_backward(ctx, tdy, tx, tdx));
    test_tensor_get(ctx, tdx, got);
    clcnn_ref_relu_backward(dy, x, n, ref);
    bad += check16(name, "relu_backward dx", dtype, got, ref, NULL, n, seed);
    SAME_BITS_AGAIN(ty, clcnn_relu_forward(ctx, tx, ty), same_y);
    SAME_BITS_AGAIN(tdx, clcnn_relu_backward(ctx, tdy, tx, tdx), same_dx);
    TEST_DESTROY(tx, ty, tdy, tdx);
    TEST_FREE(x, dy, ref, got);
    TEST_ASSERT_NO_MISMATCHES(name, "relu", bad, seed);
    TEST_ASSERT_REPEATABLE(name, "relu", same_y && same_dx);
}
END_TEST

/* A NaN's sign and quietness through ReLU: still a NaN. */
START_TEST(test_relu16_nan)
{
    const clcnn_dtype dtype = dtypes16[_i];
    const size_t dims[4] = {1, 1, 1, 6};
    const uint16_t f16[6] = {0x7e00, 0xfe00, 0x7c01, 0x7c00, 0x8000, 0x0001};
    const uint16_t bf16[6] = {0x7fc0, 0xffc0, 0x7f81, 0x7f80, 0x8000, 0x0001};
    const uint16_t *in = dtype == CLCNN_FLOAT16 ? f16 : bf16;
    uint16_t out[6];
    clcnn_tensor *x = NULL, *y = NULL;
    TEST_OK(ctx, clcnn_tensor_create(ctx, dtype, dims, &x));
    TEST_OK(ctx, clcnn_tensor_create(ctx, dtype, dims, &y));
    TEST_OK(ctx, clcnn_tensor_write(x, in, sizeof f16));
    TEST_OK(ctx, clcnn_relu_forward(ctx, x, y));
    TEST_OK(ctx, clcnn_tensor_read(y, out, sizeof out));
    TEST_DESTROY(x, y);
    for (int k = 0; k < 3; k++)
        ck_assert_msg(isnan(from16(dtype, out[k])), "%s: relu of NaN 0x%04x gave 0x%04x", kit_dtype_name(dtype), in[k],
                      out[k]);
    /* infinity, -0 (not negative: kept) and the smallest subnormal, bit for bit */
    for (int k = 3; k < 6; k++)
        ck_assert_msg(out[k] == in[k], "%s: relu of 0x%04x gave 0x%04x", kit_dtype_name(dtype), in[k], out[k]);
}
END_TEST

START_TEST(test_zero_pad16)
{
    CASE16(c, dtype, name, seed);
    const int pad = 1 + (int)(_i % 3);
    const size_t n = kit_elements(c->dims);
    const size_t out_dims[4] = {c->dims[0], c->dims[1] + 2 * (size_t)pad, c->dims[2] + 2 * (size_t)pad, c->dims[3]};
    const size_t m = kit_elements(out_dims);
    double *x = values16(&rng, dtype, n, 1, LARGEST16(dtype)), *ref = test_alloc_doubles(m),
           *got = test_alloc_doubles(m);
    clcnn_tensor *tx = test_tensor_from(ctx, dtype, c->dims, x), *tp = test_tensor_out(ctx, dtype, out_dims);
    int same;
    TEST_OK(ctx, clcnn_zero_pad(ctx, tx, pad, tp));
    test_tensor_get(ctx, tp, got);
    clcnn_ref_zero_pad(x, c->dims, pad, ref);
    size_t bad = check16(name, "zero_pad x_pad", dtype, got, ref, NULL, m, seed);
    SAME_BITS_AGAIN(tp, clcnn_zero_pad(ctx, tx, pad, tp), same);
    TEST_DESTROY(tx, tp);
    TEST_FREE(x, ref, got);
    TEST_ASSERT_NO_MISMATCHES(name, "zero_pad", bad, seed);
    TEST_ASSERT_REPEATABLE(name, "zero_pad", same);
}
END_TEST

/* SGD with and without momentum: float arithmetic on the 16-bit values,
 * each result rounded once; params near the largest finite value
 * overflow to infinity, tiny ones land among the subnormals. */
START_TEST(test_sgd16)
{
    CASE16(c, dtype, name, seed);
    const size_t n = kit_elements(c->dims);
    const int with_velocity = (_i / DTYPES16) % 2 == 0;
    const double lr = 0.75, momentum = with_velocity ? 0.875 : 0.0, decay = 0.0625;
    double *p = values16(&rng, dtype, n, 0, SGD_BIG(dtype)), *g = values16(&rng, dtype, n, 0, SGD_BIG(dtype)),
           *v = values16(&rng, dtype, n, 0, SGD_BIG(dtype));
    double *p_ref = test_alloc_doubles(n), *v_ref = test_alloc_doubles(n), *got = test_alloc_doubles(n);
    double *p_terms = test_alloc_doubles(n), *v_terms = test_alloc_doubles(n);
    clcnn_tensor *tp = test_tensor_from(ctx, dtype, c->dims, p), *tg = test_tensor_from(ctx, dtype, c->dims, g);
    clcnn_tensor *tv = with_velocity ? test_tensor_from(ctx, dtype, c->dims, v) : NULL;
    TEST_OK(ctx, clcnn_sgd_update(ctx, tp, tg, tv, lr, momentum, decay));
    memcpy(p_ref, p, n * sizeof *p);
    memcpy(v_ref, v, n * sizeof *v);
    /* The kernel takes the scalars as floats (exact here). */
    kit_sgd_update_terms(p, g, with_velocity ? v : NULL, n, lr, momentum, decay, p_terms, v_terms);
    clcnn_ref_sgd_update(p_ref, g, with_velocity ? v_ref : NULL, n, lr, momentum, decay);
    test_tensor_get(ctx, tp, got);
    size_t bad = check16(name, "sgd_update param", dtype, got, p_ref, p_terms, n, seed);
    if (with_velocity) {
        test_tensor_get(ctx, tv, got);
        bad += check16(name, "sgd_update velocity", dtype, got, v_ref, v_terms, n, seed);
    }
    /* Bitwise determinism: the same inputs again give the same bits. */
    size_t bytes;
    void *first = test_tensor_get_raw(ctx, tp, &bytes);
    test_tensor_set(ctx, tp, p);
    if (with_velocity)
        test_tensor_set(ctx, tv, v);
    TEST_OK(ctx, clcnn_sgd_update(ctx, tp, tg, tv, lr, momentum, decay));
    const int same = test_raw_equal(ctx, tp, first, bytes);
    free(first);
    TEST_DESTROY(tp, tg, tv);
    TEST_FREE(p, g, v, p_ref, v_ref, got, p_terms, v_terms);
    TEST_ASSERT_NO_MISMATCHES(name, "sgd_update", bad, seed);
    TEST_ASSERT_REPEATABLE(name, "sgd_update", same);
}
END_TEST

/* Softmax cross-entropy: logits rounded to the storage, labels in the
 * logits' dtype or (the one exception) float32; probs, loss and mean
 * rounded once from float, the mean summed from the unrounded losses. */
typedef struct sce16_case {
    const char *name;
    size_t dims[4];
    int float_labels;
} sce16_case;
static const sce16_case sce16_cases[] = {{"few_rows_k10", {4, 1, 1, 10}, 0},
                                         {"few_rows_k7_float_labels", {3, 2, 1, 7}, 1},
                                         {"many_rows_k33", {64, 3, 3, 33}, 0},
                                         {"many_rows_k300_float_labels", {16, 2, 2, 300}, 1}};
#define SCE16 ((int)(sizeof sce16_cases / sizeof sce16_cases[0]))

/* A second context whose softmax forward always takes two launches. */
static clcnn_context *two_launch_context(void)
{
    clcnn_context *other = NULL;
    TEST_OK(ctx, clcnn_context_create(NULL, &other));
    TEST_OK(other, clcnn_context_set_tuning(other, "softmax_one_group_rows=0"));
    return other;
}

/* The forward's outputs on context c, as doubles (mean: out[n + rows]). */
static void sce16_forward(clcnn_context *c, clcnn_dtype dtype, clcnn_dtype label_dtype, const size_t dims[4],
                          const double *logits, const double *labels, double *probs, double *loss, double *mean,
                          void **raw_mean)
{
    const size_t row_dims[4] = {dims[0], dims[1], dims[2], 1}, one[4] = {1, 1, 1, 1};
    clcnn_tensor *tz = test_tensor_from(c, dtype, dims, logits),
                 *ty = test_tensor_from(c, label_dtype, row_dims, labels);
    clcnn_tensor *tp = test_tensor_out(c, dtype, dims), *tl = test_tensor_out(c, dtype, row_dims);
    clcnn_tensor *tm = test_tensor_out(c, dtype, one);
    TEST_OK(c, clcnn_softmax_cross_entropy_forward(c, tz, ty, tp, tl, tm));
    test_tensor_get(c, tp, probs);
    test_tensor_get(c, tl, loss);
    test_tensor_get(c, tm, mean);
    size_t bytes;
    *raw_mean = test_tensor_get_raw(c, tm, &bytes);
    TEST_DESTROY(tz, ty, tp, tl, tm);
}

START_TEST(test_sce16)
{
    const sce16_case *c = &sce16_cases[_i / DTYPES16];
    const clcnn_dtype dtype = dtypes16[_i % DTYPES16], label_dtype = c->float_labels ? CLCNN_FLOAT32 : dtype;
    char name[96];
    snprintf(name, sizeof name, "%s/%s", c->name, kit_dtype_name(dtype));
    const uint64_t seed = test_case_seed((unsigned)(2400 + _i));
    kit_rng rng;
    kit_rng_init(&rng, seed);
    const size_t n = kit_elements(c->dims), K = c->dims[3], rows = n / K,
                 row_dims[4] = {c->dims[0], c->dims[1], c->dims[2], 1};
    double *z = test_random_doubles(&rng, dtype, KIT_NORMAL, n), *labels = test_alloc_doubles(rows);
    for (size_t i = 0; i < n; i++)
        z[i] = kit_round_to_dtype(dtype, 4.0 * z[i]);
    for (size_t r = 0; r < rows; r++)
        labels[r] = (double)kit_rng_below(&rng, K);
    double *p_ref = test_alloc_doubles(n), *l_ref = test_alloc_doubles(rows), m_ref, m_terms;
    double *p_terms = test_alloc_doubles(n), *l_terms = test_alloc_doubles(rows), *d_terms = test_alloc_doubles(n);
    double *p = test_alloc_doubles(n), *l = test_alloc_doubles(rows), m, m_two, *d_ref = test_alloc_doubles(n);
    double *p_two = test_alloc_doubles(n), *l_two = test_alloc_doubles(rows);
    clcnn_ref_softmax_cross_entropy_forward(z, c->dims, labels, p_ref, l_ref, &m_ref);
    kit_softmax_cross_entropy_forward_terms(dtype, z, c->dims, labels, p_ref, l_ref, p_terms, l_terms, &m_terms);
    void *raw_mean, *raw_two;
    sce16_forward(ctx, dtype, label_dtype, c->dims, z, labels, p, l, &m, &raw_mean);
    size_t bad = check16(name, "probs", dtype, p, p_ref, p_terms, n, seed);
    bad += check16(name, "loss", dtype, l, l_ref, l_terms, rows, seed);
    bad += check16(name, "mean_loss", dtype, &m, &m_ref, &m_terms, 1, seed);
    /* One launch or two: the same bits (the one context takes one launch
     * for the few-rows cases). */
    clcnn_context *other = two_launch_context();
    sce16_forward(other, dtype, label_dtype, c->dims, z, labels, p_two, l_two, &m_two, &raw_two);
    const int same_ways = memcmp(raw_mean, raw_two, 2) == 0 && memcmp(p, p_two, n * sizeof *p) == 0;
    clcnn_context_destroy(other);
    /* The backward from the device's probs, as a network runs it. */
    clcnn_tensor *tp = test_tensor_from(ctx, dtype, c->dims, p), *td = test_tensor_out(ctx, dtype, c->dims);
    clcnn_tensor *ty = test_tensor_from(ctx, label_dtype, row_dims, labels);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_backward(ctx, tp, ty, td));
    clcnn_ref_softmax_cross_entropy_backward(p, c->dims, labels, d_ref);
    kit_softmax_cross_entropy_backward_terms(dtype, p, c->dims, labels, d_terms);
    test_tensor_get(ctx, td, p_two);
    bad += check16(name, "dlogits", dtype, p_two, d_ref, d_terms, n, seed);
    TEST_DESTROY(tp, td, ty);
    TEST_FREE(z, labels, p_ref, l_ref, p_terms, l_terms, d_terms, p, l, d_ref, p_two, l_two, raw_mean, raw_two);
    TEST_ASSERT_NO_MISMATCHES(name, "softmax_cross_entropy", bad, seed);
    ck_assert_msg(same_ways, "%s: one launch and two differ", name);
}
END_TEST

/* 16-bit labels must hold every class exactly; float32 labels always do. */
START_TEST(test_sce16_labels_refused)
{
    const clcnn_dtype dtype = dtypes16[_i];
    const size_t K = dtype == CLCNN_BFLOAT16 ? 258 : 2050;
    const size_t dims[4] = {1, 1, 1, K}, row_dims[4] = {1, 1, 1, 1};
    clcnn_tensor *z = test_tensor_from(ctx, dtype, dims, NULL), *y = test_tensor_from(ctx, dtype, row_dims, NULL);
    clcnn_tensor *p = test_tensor_out(ctx, dtype, dims), *l = test_tensor_out(ctx, dtype, row_dims);
    clcnn_tensor *m = test_tensor_out(ctx, dtype, row_dims), *y64 = NULL;
    TEST_FAILS_WITH(ctx, clcnn_softmax_cross_entropy_forward(ctx, z, y, p, l, m), CLCNN_ERROR_INVALID_ARGUMENT,
                    "float32 labels");
    TEST_FAILS_WITH(ctx, clcnn_softmax_cross_entropy_backward(ctx, p, y, z), CLCNN_ERROR_INVALID_ARGUMENT, "labels");
    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        y64 = test_tensor_out(ctx, CLCNN_FLOAT64, row_dims);
        TEST_FAILS_WITH(ctx, clcnn_softmax_cross_entropy_forward(ctx, z, y64, p, l, m), CLCNN_ERROR_INVALID_ARGUMENT,
                        "labels is float64");
    }
    TEST_DESTROY(z, y, p, l, m, y64);
}
END_TEST

/* ---- ops that do not take 16-bit tensors yet ---- */

/* Each is refused with CLCNN_ERROR_UNSUPPORTED naming the op, the dtype
 * and the way out, and writes nothing. (The conv ops take 16-bit tensors:
 * test_conv_half.c.) */
START_TEST(test_unconverted_ops_refuse)
{
    const clcnn_dtype dtype = dtypes16[_i];
    const size_t a_dims[4] = {1, 4, 4, 2}, p_dims[4] = {1, 2, 2, 2};
    clcnn_tensor *a = test_tensor_from(ctx, dtype, a_dims, NULL);
    clcnn_tensor *p = test_tensor_out(ctx, dtype, p_dims), *da = test_tensor_out(ctx, dtype, a_dims);
    size_t bytes;
    void *p_before = test_tensor_get_raw(ctx, p, &bytes);
    const clcnn_pool_params pool = clcnn_pool_params_default(2, 2);
    const char *name = kit_dtype_name(dtype);
    TEST_FAILS_WITH(ctx, clcnn_pool_forward(ctx, a, 2, 2, CLCNN_POOL_MAX, p), CLCNN_ERROR_UNSUPPORTED, "pool_forward");
    TEST_MESSAGE_HAS(ctx, name);
    TEST_MESSAGE_HAS(ctx, "clcnn_tensor_convert");
    int p_kept = test_raw_equal(ctx, p, p_before, bytes);
    TEST_FAILS_WITH(ctx, clcnn_pool_forward_ex(ctx, a, &pool, CLCNN_POOL_AVERAGE, p), CLCNN_ERROR_UNSUPPORTED,
                    "pool_forward_ex");
    TEST_FAILS_WITH(ctx, clcnn_pool_backward(ctx, p, a, 2, 2, CLCNN_POOL_MAX, da), CLCNN_ERROR_UNSUPPORTED,
                    "pool_backward");
    /* clcnn_context_prepare validates each layer as its op does. */
    clcnn_layer_spec layer = {.op = CLCNN_PREPARE_POOL_FORWARD,
                              .dtype = dtype,
                              .input_dims = {1, 4, 4, 2},
                              .pool = pool,
                              .mode = CLCNN_POOL_MAX};
    TEST_FAILS_WITH(ctx, clcnn_context_prepare(ctx, &layer, 1), CLCNN_ERROR_UNSUPPORTED, "pool_forward");
    free(p_before);
    TEST_DESTROY(a, p, da);
    ck_assert_msg(p_kept, "pool_forward wrote to p although it refused");
}
END_TEST

static Suite *half_suite(void)
{
    Suite *suite = suite_create("half");
    test_add_loop(suite, "tensor_holds_bits", test_tensor_holds_bits, DTYPES16);
    test_add_loop(suite, "kit_formats", test_kit_formats, 1);
    test_add_loop(suite, "unconverted_ops_refuse", test_unconverted_ops_refuse, DTYPES16);
    test_add_loop(suite, "convert_every_pattern", test_convert_every_pattern, DTYPES16);
    test_add_loop(suite, "convert_float32_rounds", test_convert_float32_rounds, DTYPES16);
    test_add_loop(suite, "convert_float64_rounds_once", test_convert_float64_rounds_once, DTYPES16);
    test_add_loop(suite, "convert_validates", test_convert_validates, 1);
    test_add_loop(suite, "relu", test_relu16, DTYPES16 * SHAPES16);
    test_add_loop(suite, "relu_nan", test_relu16_nan, DTYPES16);
    test_add_loop(suite, "zero_pad", test_zero_pad16, DTYPES16 * SHAPES16);
    test_add_loop(suite, "sgd_update", test_sgd16, DTYPES16 * SHAPES16);
    test_add_loop(suite, "softmax_cross_entropy", test_sce16, DTYPES16 * SCE16);
    test_add_loop(suite, "softmax_cross_entropy_labels", test_sce16_labels_refused, DTYPES16);
    return suite;
}

int main(void)
{
    return test_main(&ctx, half_suite);
}
