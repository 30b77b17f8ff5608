/* Device tests of the 16-bit dtypes (CLCNN_FLOAT16, CLCNN_BFLOAT16): tensors
 * holding their bits as they are, and the refusal, before anything is
 * enqueued, of the ops that do not take them yet. The host's reference
 * formats are the kit's (kit_float16_from_double and its kin), written in
 * double arithmetic apart from the kernels' bit manipulations. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- ops that do not take 16-bit tensors yet ---- */

/* Each is refused with CLCNN_ERROR_UNSUPPORTED naming the op, the dtype
 * and the way out, and writes nothing. */
START_TEST(test_unconverted_ops_refuse)
{
    const clcnn_dtype dtype = dtypes16[_i];
    const size_t a_dims[4] = {1, 4, 4, 2}, w_dims[4] = {2, 2, 2, 2}, b_dims[4] = {1, 1, 1, 2}, z_dims[4] = {1, 3, 3, 2},
                 p_dims[4] = {1, 2, 2, 2}, l_dims[4] = {1, 4, 4, 1}, one[4] = {1, 1, 1, 1};
    clcnn_tensor *a = test_tensor_from(ctx, dtype, a_dims, NULL), *w = test_tensor_from(ctx, dtype, w_dims, NULL);
    clcnn_tensor *b = test_tensor_from(ctx, dtype, b_dims, NULL), *z = test_tensor_out(ctx, dtype, z_dims);
    clcnn_tensor *p = test_tensor_out(ctx, dtype, p_dims), *da = test_tensor_out(ctx, dtype, a_dims);
    clcnn_tensor *labels = test_tensor_from(ctx, dtype, l_dims, NULL), *probs = test_tensor_out(ctx, dtype, a_dims);
    clcnn_tensor *loss = test_tensor_out(ctx, dtype, l_dims), *mean = test_tensor_out(ctx, dtype, one);
    size_t bytes;
    void *z_before = test_tensor_get_raw(ctx, z, &bytes);
    const clcnn_pool_params pool = clcnn_pool_params_default(2, 2);
    const clcnn_conv_params conv = clcnn_conv_params_default(1, 0);
    const char *name = kit_dtype_name(dtype);
    TEST_FAILS_WITH(ctx, clcnn_conv_forward(ctx, a, w, b, 1, 0, z), CLCNN_ERROR_UNSUPPORTED, "conv_forward");
    TEST_MESSAGE_HAS(ctx, name);
    TEST_MESSAGE_HAS(ctx, "clcnn_tensor_convert");
    int z_kept = test_raw_equal(ctx, z, z_before, bytes);
    TEST_FAILS_WITH(ctx, clcnn_conv_forward_ex(ctx, a, w, NULL, &conv, CLCNN_ACTIVATION_RELU, z),
                    CLCNN_ERROR_UNSUPPORTED, "conv_forward_ex");
    TEST_FAILS_WITH(ctx, clcnn_conv_backward(ctx, z, a, w, 1, 0, da, NULL, NULL), CLCNN_ERROR_UNSUPPORTED,
                    "conv_backward");
    TEST_FAILS_WITH(ctx, clcnn_pool_forward(ctx, a, 2, 2, CLCNN_POOL_MAX, p), CLCNN_ERROR_UNSUPPORTED, "pool_forward");
    TEST_MESSAGE_HAS(ctx, name);
    TEST_FAILS_WITH(ctx, clcnn_pool_forward_ex(ctx, a, &pool, CLCNN_POOL_AVERAGE, p), CLCNN_ERROR_UNSUPPORTED,
                    "pool_forward_ex");
    TEST_FAILS_WITH(ctx, clcnn_pool_backward(ctx, p, a, 2, 2, CLCNN_POOL_MAX, da), CLCNN_ERROR_UNSUPPORTED,
                    "pool_backward");
    TEST_FAILS_WITH(ctx, clcnn_softmax_cross_entropy_forward(ctx, a, labels, probs, loss, mean),
                    CLCNN_ERROR_UNSUPPORTED, "softmax_cross_entropy_forward");
    TEST_FAILS_WITH(ctx, clcnn_softmax_cross_entropy_backward(ctx, a, labels, probs), CLCNN_ERROR_UNSUPPORTED,
                    "softmax_cross_entropy_backward");
    /* clcnn_context_prepare validates each layer as its op does. */
    clcnn_layer_spec layer = {.op = CLCNN_PREPARE_POOL_FORWARD,
                              .dtype = dtype,
                              .input_dims = {1, 4, 4, 2},
                              .pool = pool,
                              .mode = CLCNN_POOL_MAX};
    TEST_FAILS_WITH(ctx, clcnn_context_prepare(ctx, &layer, 1), CLCNN_ERROR_UNSUPPORTED, "pool_forward");
    free(z_before);
    TEST_DESTROY(a, w, b, z, p, da, labels, probs, loss, mean);
    ck_assert_msg(z_kept, "conv_forward wrote to z although it refused");
}
END_TEST

static Suite *half_suite(void)
{
    Suite *suite = suite_create("half");
    test_add_loop(suite, "tensor_holds_bits", test_tensor_holds_bits, DTYPES16);
    test_add_loop(suite, "kit_formats", test_kit_formats, 1);
    test_add_loop(suite, "unconverted_ops_refuse", test_unconverted_ops_refuse, DTYPES16);
    return suite;
}

int main(void)
{
    return test_main(&ctx, half_suite);
}
