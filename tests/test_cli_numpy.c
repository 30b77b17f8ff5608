/* Checks the numpy ports that `clcnn demo` relies on against the figures the
 * original course printed (numpy 1.13, seed 1): the legacy MT19937/randn
 * stream, numpy's array and scalar printing, and, through the CPU
 * reference, each walkthrough step's printed result. No device needed. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "numpy_print.h"
#include "numpy_random.h"

static void randn_seed1(double *out, size_t n)
{
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    numpy_random_randn(&rng, out, n);
}

/* Compares str(array) in a style with the expected text. */
static void expect_array(const char *label, const double *data, const size_t *shape, int ndim, numpy_print_style style,
                         const char *expected)
{
    char *text = numpy_array_str(data, shape, ndim, style);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strcmp(text, expected) == 0, "%s: got\n%s\nexpected\n%s", label, text, expected);
    free(text);
}

static void expect_scalar(const char *label, double value, const char *expected)
{
    char text[64];
    numpy_scalar_str(value, NUMPY_PRINT_LEGACY, text, sizeof text);
    ck_assert_msg(strcmp(text, expected) == 0, "%s: got %s, expected %s", label, text, expected);
}

START_TEST(test_randn_stream)
{
    /* np.random.seed(1); np.random.randn(10) */
    static const double expected[] = {1.62434536, -0.61175641, -0.52817175, -1.07296862, 0.86540763,
                                      -2.3015387, 1.74481176,  -0.7612069,  0.3190391,   -0.24937038};
    double x[10];
    randn_seed1(x, 10);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(fabs(x[i] - expected[i]) < 5e-9, "randn[%d] = %.10f, expected %.8f", i, x[i], expected[i]);
}
END_TEST

START_TEST(test_zero_pad_figures)
{
    double x[72];
    randn_seed1(x, 72);
    const size_t slice[2] = {3, 2};
    const char *expected = "[[ 0.90085595 -0.68372786]\n"
                           " [-0.12289023 -0.93576943]\n"
                           " [-0.26788808  0.53035547]]";
    expect_array("x[1,1] 1.13", x + 24, slice, 2, NUMPY_PRINT_LEGACY, expected);
    expect_array("x[1,1] modern", x + 24, slice, 2, NUMPY_PRINT_MODERN, expected);

    double x_pad[392];
    const size_t dims[4] = {4, 3, 3, 2};
    clcnn_ref_zero_pad(x, dims, 2, x_pad);
    const size_t pad_slice[2] = {7, 2};
    expect_array("x_pad[1,1] 1.13", x_pad + 98 + 14, pad_slice, 2, NUMPY_PRINT_LEGACY,
                 "[[ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n [ 0.  0.]\n"
                 " [ 0.  0.]]");
    expect_array("x_pad[1,1] modern", x_pad + 98 + 14, pad_slice, 2, NUMPY_PRINT_MODERN,
                 "[[0. 0.]\n [0. 0.]\n [0. 0.]\n [0. 0.]\n [0. 0.]\n [0. 0.]\n [0. 0.]]");
    char shape[32];
    const size_t pad_dims[4] = {4, 7, 7, 2};
    numpy_shape_str(pad_dims, 4, shape, sizeof shape);
    ck_assert_str_eq(shape, "(4, 7, 7, 2)");
}
END_TEST

START_TEST(test_conv_figures)
{
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    double a[48], w[48], b;
    numpy_random_randn(&rng, a, 48);
    numpy_random_randn(&rng, w, 48);
    numpy_random_randn(&rng, &b, 1);
    expect_scalar("conv_single_step Z", clcnn_ref_conv_single_step(a, w, b, 48), "-6.99908945068");

    double a_prev[480], weights[96], bias[8], z[1280];
    numpy_random_seed(&rng, 1);
    numpy_random_randn(&rng, a_prev, 480);
    numpy_random_randn(&rng, weights, 96);
    numpy_random_randn(&rng, bias, 8);
    const size_t a_dims[4] = {10, 4, 4, 3}, w_dims[4] = {2, 2, 3, 8};
    size_t z_dims[4];
    ck_assert_int_eq(clcnn_ref_conv_output_dims(a_dims, w_dims, 2, 2, z_dims), 0);
    ck_assert_uint_eq(z_dims[1] * z_dims[2], 16);
    clcnn_ref_conv_forward(a_prev, a_dims, weights, w_dims, bias, 2, 2, z);
    expect_scalar("Z's mean", numpy_mean(z, 1280), "0.0489952035289");
    const size_t row[1] = {8};
    expect_array("Z[3,2,1]", z + ((3 * 4 + 2) * 4 + 1) * 8, row, 1, NUMPY_PRINT_LEGACY,
                 "[-0.61490741 -6.7439236  -2.55153897  1.75698377  3.56208902  0.53036437\n"
                 "  5.18531798  8.75898442]");

    /* The course's bug-free conv_backward (the walkthrough's leaves dA 0). */
    double da[480], dw[96], db[8];
    clcnn_ref_conv_backward(z, a_prev, a_dims, weights, w_dims, 2, 2, da, dw, db);
    expect_scalar("dA_mean", numpy_mean(da, 480), "1.45243777754");
    expect_scalar("dW_mean", numpy_mean(dw, 96), "1.72699145831");
    expect_scalar("db_mean", numpy_mean(db, 8), "7.83923256462");
}
END_TEST

typedef struct pool_figure {
    clcnn_pool_mode mode;
    const char *expected;
} pool_figure;

static const pool_figure pool_forward_figures[] = {
    {CLCNN_POOL_MAX, "[[[[ 1.74481176  0.86540763  1.13376944]]]\n\n\n"
                     " [[[ 1.13162939  1.51981682  2.18557541]]]]"},
    {CLCNN_POOL_AVERAGE, "[[[[ 0.02105773 -0.20328806 -0.40389855]]]\n\n\n"
                         " [[[-0.22154621  0.51716526  0.48155844]]]]"},
};

static const pool_figure pool_backward_figures[] = {
    {CLCNN_POOL_MAX, "[[ 0.          0.        ]\n"
                     " [ 5.05844394 -1.68282702]\n"
                     " [ 0.          0.        ]]"},
    {CLCNN_POOL_AVERAGE, "[[ 0.08485462  0.2787552 ]\n"
                         " [ 1.26461098 -0.25749373]\n"
                         " [ 1.17975636 -0.53624893]]"},
};

START_TEST(test_pool_forward_figures)
{
    double a_prev[96], a[6];
    randn_seed1(a_prev, 96);
    const size_t dims[4] = {2, 4, 4, 3};
    size_t out_dims[4];
    ck_assert_int_eq(clcnn_ref_pool_output_dims(dims, 3, 2, out_dims), 0);
    const pool_figure *figure = &pool_forward_figures[_i];
    clcnn_ref_pool_forward(a_prev, dims, 3, 2, figure->mode, a);
    expect_array("pool_forward A", a, out_dims, 4, NUMPY_PRINT_LEGACY, figure->expected);
}
END_TEST

START_TEST(test_pool_backward_figures)
{
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    double a_prev[150], da[80], da_prev[150];
    numpy_random_randn(&rng, a_prev, 150);
    numpy_random_randn(&rng, da, 80);
    expect_scalar("mean of dA", numpy_mean(da, 80), "0.145713902729");
    const size_t dims[4] = {5, 5, 3, 2};
    const pool_figure *figure = &pool_backward_figures[_i];
    clcnn_ref_pool_backward(da, a_prev, dims, 2, 1, figure->mode, da_prev);
    const size_t slice[2] = {3, 2};
    expect_array("dA_prev[1,1]", da_prev + 36, slice, 2, NUMPY_PRINT_LEGACY, figure->expected);
}
END_TEST

START_TEST(test_mask_and_distribute_figures)
{
    double x[6], mask[6], spread[4];
    randn_seed1(x, 6);
    clcnn_ref_create_mask_from_window(x, 2, 3, mask);
    const size_t shape[2] = {2, 3};
    char *text = numpy_bool_array_str(mask, shape, 2);
    ck_assert_str_eq(text, "[[ True False False]\n [False False False]]");
    free(text);
    expect_array("x", x, shape, 2, NUMPY_PRINT_LEGACY,
                 "[[ 1.62434536 -0.61175641 -0.52817175]\n [-1.07296862  0.86540763 -2.3015387 ]]");
    clcnn_ref_distribute_value(2.0, 2, 2, spread);
    const size_t square[2] = {2, 2};
    expect_array("distributed value 1.13", spread, square, 2, NUMPY_PRINT_LEGACY, "[[ 0.5  0.5]\n [ 0.5  0.5]]");
    expect_array("distributed value modern", spread, square, 2, NUMPY_PRINT_MODERN, "[[0.5 0.5]\n [0.5 0.5]]");
}
END_TEST

typedef struct print_case {
    const char *name;
    double values[4];
    size_t n;
    numpy_print_style style;
    const char *expected;
} print_case;

/* numpy's choices beyond the walkthrough: exponent format when values span
 * more than 1000x, right-padding in maxprec mode. */
static const print_case print_cases[] = {
    {"exp 1.13",
     {1e-5, 1.5, 3e5, -2},
     4,
     NUMPY_PRINT_LEGACY,
     "[  1.00000000e-05   1.50000000e+00   3.00000000e+05  -2.00000000e+00]"},
    {"exp modern", {1e-5, 1.5, 3e5, -2}, 4, NUMPY_PRINT_MODERN, "[ 1.0e-05  1.5e+00  3.0e+05 -2.0e+00]"},
    {"maxprec modern", {0.5, 0.12345678, 0, 0}, 2, NUMPY_PRINT_MODERN, "[0.5        0.12345678]"},
    {"maxprec 1.13", {0.5, 0.12345678, 0, 0}, 2, NUMPY_PRINT_LEGACY, "[ 0.5         0.12345678]"},
    {"rounding", {2.0 / 3.0, -1.0 / 3.0, 0, 0}, 2, NUMPY_PRINT_MODERN, "[ 0.66666667 -0.33333333]"},
};

START_TEST(test_print_cases)
{
    const print_case *c = &print_cases[_i];
    const size_t shape[1] = {c->n};
    expect_array(c->name, c->values, shape, 1, c->style, c->expected);
}
END_TEST

START_TEST(test_scalars)
{
    char text[64];
    numpy_scalar_str(2.0, NUMPY_PRINT_LEGACY, text, sizeof text);
    ck_assert_str_eq(text, "2.0");
    numpy_scalar_str(0.1, NUMPY_PRINT_MODERN, text, sizeof text);
    ck_assert_str_eq(text, "0.1");
    numpy_scalar_str(1.0 / 3.0, NUMPY_PRINT_MODERN, text, sizeof text);
    ck_assert_str_eq(text, "0.3333333333333333");
    numpy_scalar_str(1e-5, NUMPY_PRINT_MODERN, text, sizeof text);
    ck_assert_str_eq(text, "1e-05");
    numpy_scalar_str(1.5e16, NUMPY_PRINT_MODERN, text, sizeof text);
    ck_assert_str_eq(text, "1.5e+16");
    numpy_scalar_str(-250.0, NUMPY_PRINT_MODERN, text, sizeof text);
    ck_assert_str_eq(text, "-250.0");
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("cli_numpy");
    TCase *figures = tcase_create("walkthrough figures");
    tcase_add_test(figures, test_randn_stream);
    tcase_add_test(figures, test_zero_pad_figures);
    tcase_add_test(figures, test_conv_figures);
    tcase_add_loop_test(figures, test_pool_forward_figures, 0, 2);
    tcase_add_loop_test(figures, test_pool_backward_figures, 0, 2);
    tcase_add_test(figures, test_mask_and_distribute_figures);
    suite_add_tcase(suite, figures);
    TCase *printing = tcase_create("printing");
    tcase_add_loop_test(printing, test_print_cases, 0, (int)(sizeof print_cases / sizeof print_cases[0]));
    tcase_add_test(printing, test_scalars);
    suite_add_tcase(suite, printing);
    SRunner *runner = srunner_create(suite);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
