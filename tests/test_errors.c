/* Bad input and the context/tensor API: every validation path of every op
 * returns its status with a message naming the op and the argument, and
 * leaves every output untouched (outputs hold a sentinel pattern that is
 * checked after each call); valid ops still work on the same context
 * afterwards. Also device selection, status strings and tensor basics. */
/* setenv/unsetenv, to exercise CLCNN_DEVICE. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

/* ---- watched tensors ---- */

/* The fixture of one test: valid float32 tensors for every op, a second
 * context, and the watch over every tensor, whose contents no failing call
 * may change. */
static struct {
    clcnn_context *other_ctx;
    kit_watch watch;
    /* conv: a (2,5,5,3) * w (3,3,3,4) + b, stride 1, pad 0 -> z (2,3,3,4) */
    clcnn_tensor *a, *w, *b, *z, *dz, *da_prev, *dw, *db;
    /* pool on a, f 2, stride 1 -> (2,4,4,3) */
    clcnn_tensor *pool_out, *pool_da, *pool_da_prev;
    /* zero_pad of a, pad 1 -> (2,7,7,3) */
    clcnn_tensor *x_pad;
} fx;

static const size_t A_DIMS[4] = {2, 5, 5, 3};
static const size_t W_DIMS[4] = {3, 3, 3, 4};
static const size_t B_DIMS[4] = {1, 1, 1, 4};
static const size_t Z_DIMS[4] = {2, 3, 3, 4};
static const size_t POOL_DIMS[4] = {2, 4, 4, 3};
static const size_t PAD_DIMS[4] = {2, 7, 7, 3};
#define POOL_F 2
#define POOL_STRIDE 1
#define PAD 1

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    ck_assert_msg(clcnn_context_create(NULL, &fx.other_ctx) == CLCNN_OK, "a second context: %s",
                  clcnn_context_last_error(fx.other_ctx));
    fx.a = test_watch_input(&fx.watch, ctx, CLCNN_FLOAT32, A_DIMS, 1);
    fx.w = test_watch_input(&fx.watch, ctx, CLCNN_FLOAT32, W_DIMS, 2);
    fx.b = test_watch_input(&fx.watch, ctx, CLCNN_FLOAT32, B_DIMS, 3);
    fx.dz = test_watch_input(&fx.watch, ctx, CLCNN_FLOAT32, Z_DIMS, 4);
    fx.pool_da = test_watch_input(&fx.watch, ctx, CLCNN_FLOAT32, POOL_DIMS, 5);
    fx.z = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, Z_DIMS);
    fx.da_prev = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, A_DIMS);
    fx.dw = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, W_DIMS);
    fx.db = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, B_DIMS);
    fx.pool_out = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, POOL_DIMS);
    fx.pool_da_prev = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, A_DIMS);
    fx.x_pad = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, PAD_DIMS);
}

static void teardown(void)
{
    kit_watch_release(&fx.watch);
    clcnn_context_destroy(fx.other_ctx);
    fx.other_ctx = NULL;
}

/* EXPECT_ERROR(call, status, op, "arg", "other acceptable arg"...): the
 * message is read from the shared context. */
#define EXPECT_ERROR(call, want, op, ...) TEST_EXPECT_ERROR(&fx.watch, ctx, call, want, op, __VA_ARGS__)
/* For calls without a usable context (ctx NULL): only the status counts. */
#define EXPECT_STATUS(call, want) TEST_EXPECT_STATUS(&fx.watch, call, want)

/* ---- valid ops after errors ---- */

static void check_close_to_reference(const char *what, clcnn_tensor *t, const double *ref, const double *terms,
                                     size_t n)
{
    double *got = test_alloc_doubles(n);
    double *bound = test_alloc_doubles(n);
    kit_tolerance_bounds(CLCNN_FLOAT32, terms, bound, n);
    test_tensor_get(ctx, t, got);
    size_t mismatches = check_close("valid_after_errors", what, got, ref, bound, n, 0);
    free(got);
    free(bound);
    ck_assert_msg(mismatches == 0, "%s is wrong after earlier errors on the same context", what);
}

/* Runs every op with valid arguments on the shared context and checks the
 * results: earlier failures must not have broken anything. */
static void check_valid_ops_still_work(void)
{
    size_t na = kit_elements(A_DIMS), nw = kit_elements(W_DIMS), nz = kit_elements(Z_DIMS);
    size_t np = kit_elements(POOL_DIMS), npad = kit_elements(PAD_DIMS);
    double *a = test_alloc_doubles(na), *w = test_alloc_doubles(nw), *b = test_alloc_doubles(4);
    double *dz = test_alloc_doubles(nz), *pda = test_alloc_doubles(np);
    test_tensor_get(ctx, fx.a, a);
    test_tensor_get(ctx, fx.w, w);
    test_tensor_get(ctx, fx.b, b);
    test_tensor_get(ctx, fx.dz, dz);
    test_tensor_get(ctx, fx.pool_da, pda);

    clcnn_tensor *z = test_tensor_out(ctx, CLCNN_FLOAT32, Z_DIMS);
    clcnn_tensor *da_prev = test_tensor_out(ctx, CLCNN_FLOAT32, A_DIMS);
    clcnn_tensor *dw = test_tensor_out(ctx, CLCNN_FLOAT32, W_DIMS);
    clcnn_tensor *db = test_tensor_out(ctx, CLCNN_FLOAT32, B_DIMS);
    clcnn_tensor *pool_out = test_tensor_out(ctx, CLCNN_FLOAT32, POOL_DIMS);
    clcnn_tensor *pool_da_prev = test_tensor_out(ctx, CLCNN_FLOAT32, A_DIMS);
    clcnn_tensor *x_pad = test_tensor_out(ctx, CLCNN_FLOAT32, PAD_DIMS);
    TEST_OK(ctx, clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, 0, z));
    TEST_OK(ctx, clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, da_prev, dw, db));
    TEST_OK(ctx, clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, CLCNN_POOL_AVERAGE, pool_out));
    TEST_OK(ctx, clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, CLCNN_POOL_MAX, pool_da_prev));
    TEST_OK(ctx, clcnn_zero_pad(ctx, fx.a, PAD, x_pad));
    TEST_OK(ctx, clcnn_context_finish(ctx));

    size_t nmax = npad > na ? npad : na;
    double *ref1 = test_alloc_doubles(nmax), *ref2 = test_alloc_doubles(nw);
    double *ref3 = test_alloc_doubles(4);
    double *bnd1 = test_alloc_doubles(nmax), *bnd2 = test_alloc_doubles(nw);
    double *bnd3 = test_alloc_doubles(4);
    const clcnn_conv_params conv_params = clcnn_conv_params_default(1, 0);
    const clcnn_pool_params pool_params = clcnn_pool_params_default(POOL_F, POOL_STRIDE);
    clcnn_ref_conv_forward(a, A_DIMS, w, W_DIMS, b, 1, 0, ref1);
    ck_assert_int_eq(kit_conv_forward_terms(a, A_DIMS, w, W_DIMS, b, &conv_params, bnd1), 0);
    check_close_to_reference("conv_forward z", z, ref1, bnd1, nz);
    clcnn_ref_conv_backward(dz, a, A_DIMS, w, W_DIMS, 1, 0, ref1, ref2, ref3);
    ck_assert_int_eq(kit_conv_backward_terms(dz, a, A_DIMS, w, W_DIMS, &conv_params, bnd1, bnd2, bnd3), 0);
    check_close_to_reference("conv_backward dA_prev", da_prev, ref1, bnd1, na);
    check_close_to_reference("conv_backward dW", dw, ref2, bnd2, nw);
    check_close_to_reference("conv_backward db", db, ref3, bnd3, 4);
    clcnn_ref_pool_forward(a, A_DIMS, POOL_F, POOL_STRIDE, CLCNN_POOL_AVERAGE, ref1);
    ck_assert_int_eq(kit_pool_forward_terms(a, A_DIMS, &pool_params, CLCNN_POOL_AVERAGE, bnd1), 0);
    check_close_to_reference("pool_forward average", pool_out, ref1, bnd1, np);
    clcnn_ref_pool_backward(pda, a, A_DIMS, POOL_F, POOL_STRIDE, CLCNN_POOL_MAX, ref1);
    ck_assert_int_eq(kit_pool_backward_terms(pda, a, A_DIMS, &pool_params, CLCNN_POOL_MAX, bnd1), 0);
    check_close_to_reference("pool_backward max", pool_da_prev, ref1, bnd1, na);
    clcnn_ref_zero_pad(a, A_DIMS, PAD, ref1);
    memset(bnd1, 0, npad * sizeof *bnd1);
    check_close_to_reference("zero_pad", x_pad, ref1, bnd1, npad);

    clcnn_tensor *made[] = {z, da_prev, dw, db, pool_out, pool_da_prev, x_pad};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        clcnn_tensor_destroy(made[i]);
    double *arrays[] = {a, w, b, dz, pda, ref1, ref2, ref3, bnd1, bnd2, bnd3};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
}

/* ---- tests that need no device ---- */

START_TEST(test_status_strings)
{
    const clcnn_status all[] = {CLCNN_OK,
                                CLCNN_ERROR_INVALID_ARGUMENT,
                                CLCNN_ERROR_SHAPE,
                                CLCNN_ERROR_NO_DEVICE,
                                CLCNN_ERROR_UNSUPPORTED,
                                CLCNN_ERROR_OUT_OF_MEMORY,
                                CLCNN_ERROR_KERNEL_BUILD,
                                CLCNN_ERROR_OPENCL};
    const size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = clcnn_status_string(all[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "status %d has no string", (int)all[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(s, clcnn_status_string(all[j])) != 0, "statuses %d and %d share the string \"%s\"",
                          (int)all[i], (int)all[j], s);
    }
    ck_assert_ptr_nonnull(strstr(clcnn_status_string(CLCNN_ERROR_SHAPE), "CLCNN_ERROR_SHAPE"));
    const clcnn_status unknown[] = {(clcnn_status)8, (clcnn_status)99, (clcnn_status)-1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = clcnn_status_string(unknown[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "unknown status %d has no string", (int)unknown[i]);
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(strcmp(s, clcnn_status_string(all[j])) != 0, "unknown status %d reads as a known one: \"%s\"",
                          (int)unknown[i], s);
    }
}
END_TEST

START_TEST(test_version_and_null_no_ops)
{
    ck_assert_str_eq(clcnn_version(), CLCNN_VERSION_STRING);
    clcnn_context_destroy(NULL);
    clcnn_tensor_destroy(NULL);
    ck_assert_int_eq(clcnn_context_create(NULL, NULL), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clcnn_context_finish(NULL), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clcnn_context_supports_dtype(NULL, CLCNN_FLOAT32), 0);
    ck_assert_ptr_nonnull(clcnn_context_last_error(NULL));
    ck_assert_ptr_nonnull(clcnn_context_device_name(NULL));
    clcnn_tensor *t = NULL;
    size_t dims[4] = {1, 1, 1, 1};
    ck_assert_int_eq(clcnn_tensor_create(NULL, CLCNN_FLOAT32, dims, &t), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_null(t);
    float v = 0;
    ck_assert_int_eq(clcnn_tensor_write(NULL, &v, sizeof v), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clcnn_tensor_read(NULL, &v, sizeof v), CLCNN_ERROR_INVALID_ARGUMENT);
}
END_TEST

/* ---- contexts and device selection ---- */

/* Restores an environment variable to what it was when saved. */
typedef struct saved_env {
    const char *name;
    char *value; /* NULL: was unset */
} saved_env;

static saved_env save_env(const char *name)
{
    saved_env s = {name, NULL};
    const char *v = getenv(name);
    if (v != NULL) {
        s.value = test_alloc(strlen(v) + 1);
        strcpy(s.value, v);
    }
    return s;
}

static void restore_env(saved_env *s)
{
    if (s->value != NULL)
        setenv(s->name, s->value, 1);
    else
        unsetenv(s->name);
    free(s->value);
    s->value = NULL;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay != '\0'; hay++) {
        size_t i = 0;
        while (i < n && hay[i] != '\0' && (hay[i] | 0x20) == (needle[i] | 0x20))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static void expect_context_ok(const char *spec)
{
    clcnn_context *c = NULL;
    clcnn_status st = clcnn_context_create(spec, &c);
    ck_assert_msg(st == CLCNN_OK, "context_create(\"%s\"): %s: %s", spec ? spec : "NULL", clcnn_status_string(st),
                  c ? clcnn_context_last_error(c) : "");
    const char *name = clcnn_context_device_name(c);
    ck_assert_msg(name != NULL && name[0] != '\0', "context_create(\"%s\"): empty device name", spec ? spec : "NULL");
    ck_assert_int_eq(clcnn_context_supports_dtype(c, CLCNN_FLOAT32), 1);
    ck_assert_int_eq(clcnn_context_finish(c), CLCNN_OK);
    clcnn_context_destroy(c);
}

/* A create that must fail with NO_DEVICE; returns its message (static copy). */
static const char *expect_no_device(const char *spec)
{
    static char message[8192];
    clcnn_context *c = NULL;
    clcnn_status st = clcnn_context_create(spec, &c);
    const char *msg = c != NULL ? clcnn_context_last_error(c) : "";
    snprintf(message, sizeof message, "%s", msg != NULL ? msg : "");
    ck_assert_msg(st == CLCNN_ERROR_NO_DEVICE, "context_create(\"%s\") returned %s: %s", spec ? spec : "NULL",
                  clcnn_status_string(st), message);
    if (c != NULL) {
        /* The library hands back a context holding only the message: it must
         * refuse work instead of crashing. */
        clcnn_tensor *t = NULL;
        size_t dims[4] = {1, 1, 1, 1};
        ck_assert_int_ne(clcnn_tensor_create(c, CLCNN_FLOAT32, dims, &t), CLCNN_OK);
        ck_assert_int_ne(clcnn_context_finish(c), CLCNN_OK);
        clcnn_tensor_destroy(t);
        clcnn_context_destroy(c);
    }
    return message;
}

/* This project's CI device is POCL; elsewhere the cpu/pocl specs may not match. */
static int default_is_pocl(void)
{
    const char *name = clcnn_context_device_name(ctx);
    if (contains_nocase(name, "portable computing language") || contains_nocase(name, "pocl"))
        return 1;
    printf("default device %s is not POCL: cpu/pocl specs not checked\n", name);
    return 0;
}

/* "pocl" is the spec a user reaches for: the case-insensitive substring
 * must find POCL through its platform's vendor and version ("The pocl
 * project", "PoCL 3.1"), its name being "Portable Computing Language". */
START_TEST(test_context_spec_pocl)
{
    if (default_is_pocl()) {
        expect_context_ok("pocl");
        expect_context_ok("PoCL");
    }
}
END_TEST

START_TEST(test_context_specs)
{
    const char *default_name = clcnn_context_device_name(ctx);
    expect_context_ok("0:0");
    expect_context_ok(NULL);
    if (default_is_pocl()) {
        expect_context_ok("cpu");
        expect_context_ok("CPU");
        expect_context_ok("portable computing");
    }

    const char *msg = expect_no_device("no-such-device-xyz");
    ck_assert_msg(strstr(msg, "no-such-device-xyz") != NULL, "no-match message does not repeat the spec: %s", msg);
    /* It lists what was found: the default device's own name appears in it
     * (device_name may append " (platform)"; compare the part before). */
    char device_only[256];
    snprintf(device_only, sizeof device_only, "%s", default_name);
    char *paren = strstr(device_only, " (");
    if (paren != NULL)
        *paren = '\0';
    ck_assert_msg(strstr(msg, device_only) != NULL, "no-match message does not list the device found (%s): %s",
                  device_only, msg);
    expect_no_device("99:0");
    expect_no_device("0:99");

    clcnn_context *c = NULL;
    clcnn_status st = clcnn_context_create("gpu", &c);
    ck_assert_msg(st == CLCNN_OK || st == CLCNN_ERROR_NO_DEVICE, "\"gpu\" gave %s", clcnn_status_string(st));
    clcnn_context_destroy(c);
}
END_TEST

START_TEST(test_context_env_var)
{
    saved_env saved = save_env("CLCNN_DEVICE");
    setenv("CLCNN_DEVICE", "no-such-device-from-env", 1);
    const char *msg = expect_no_device(NULL);
    int names_env = strstr(msg, "no-such-device-from-env") != NULL;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", msg);
    /* An explicit spec wins over the variable. */
    clcnn_context *c = NULL;
    clcnn_status explicit_status = clcnn_context_create("0:0", &c);
    clcnn_context_destroy(c);
    setenv("CLCNN_DEVICE", "0:0", 1);
    c = NULL;
    clcnn_status env_status = clcnn_context_create(NULL, &c);
    clcnn_context_destroy(c);
    restore_env(&saved);
    ck_assert_msg(names_env, "CLCNN_DEVICE no-match message does not name the value: %s", copy);
    ck_assert_msg(explicit_status == CLCNN_OK, "an explicit spec lost to CLCNN_DEVICE: %s",
                  clcnn_status_string(explicit_status));
    ck_assert_msg(env_status == CLCNN_OK, "CLCNN_DEVICE=0:0 gave %s", clcnn_status_string(env_status));
}
END_TEST

/* ---- tensors ---- */

START_TEST(test_tensor_basics)
{
    const clcnn_dtype dtypes[] = {CLCNN_FLOAT32, CLCNN_FLOAT64};
    for (size_t k = 0; k < 2; k++) {
        if (!test_dtype_usable(ctx, dtypes[k], "tensor_dims_roundtrip"))
            continue;
        const size_t dims[4] = {2, 3, 5, 7};
        clcnn_tensor *t = NULL;
        TEST_OK(ctx, clcnn_tensor_create(ctx, dtypes[k], dims, &t));
        size_t got[4] = {0, 0, 0, 0};
        clcnn_tensor_dims(t, got);
        for (int d = 0; d < 4; d++)
            ck_assert_uint_eq(got[d], dims[d]);
        ck_assert_int_eq(clcnn_tensor_dtype(t), dtypes[k]);
        /* Round trip of the bytes. */
        size_t n = kit_elements(dims);
        double *values = test_alloc_doubles(n), *back = test_alloc_doubles(n);
        kit_rng rng;
        kit_rng_init(&rng, 77);
        kit_rng_fill(&rng, dtypes[k], KIT_NORMAL, values, n);
        test_tensor_set(ctx, t, values);
        test_tensor_get(ctx, t, back);
        ck_assert_int_eq(memcmp(values, back, n * sizeof(double)), 0);
        free(values);
        free(back);
        clcnn_tensor_destroy(t);
    }
    if (!clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        const size_t dims[4] = {1, 1, 1, 1};
        clcnn_tensor *t = NULL;
        EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT64, dims, &t), CLCNN_ERROR_UNSUPPORTED, "tensor_create",
                     "float64", "fp64");
    }
}
END_TEST

START_TEST(test_tensor_create_errors)
{
    clcnn_tensor *t = NULL;
    const size_t ok_dims[4] = {1, 2, 3, 4};
    for (int d = 0; d < 4; d++) {
        size_t dims[4] = {1, 2, 3, 4};
        dims[d] = 0;
        EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, dims, &t), CLCNN_ERROR_SHAPE, "tensor_create", "dims",
                     "0");
        ck_assert_ptr_null(t);
    }
    const size_t overflow_elements[4] = {SIZE_MAX / 2 + 1, 2, 1, 1};
    EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, overflow_elements, &t), CLCNN_ERROR_SHAPE, "tensor_create",
                 "overflow");
    const size_t overflow_spread[4] = {(size_t)1 << 20, (size_t)1 << 20, (size_t)1 << 20, (size_t)1 << 20};
    EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, overflow_spread, &t), CLCNN_ERROR_SHAPE, "tensor_create",
                 "overflow");
    /* The element count fits but the byte count does not. */
    const size_t overflow_bytes[4] = {SIZE_MAX / 4 + 1, 1, 1, 1};
    EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, overflow_bytes, &t), CLCNN_ERROR_SHAPE, "tensor_create",
                 "overflow");
    /* No overflow, but past any device's largest allocation. */
    const size_t huge[4] = {(size_t)1 << 20, (size_t)1 << 20, (size_t)1 << 10, 1};
    EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, huge, &t), CLCNN_ERROR_SHAPE, "tensor_create", "bytes");
    EXPECT_ERROR(clcnn_tensor_create(ctx, (clcnn_dtype)9, ok_dims, &t), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_create",
                 "dtype");
    EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, NULL, &t), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_create",
                 "dims");
    EXPECT_ERROR(clcnn_tensor_create(ctx, CLCNN_FLOAT32, ok_dims, NULL), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_create",
                 "tensor");
    check_valid_ops_still_work();
}
END_TEST

START_TEST(test_tensor_transfer_errors)
{
    /* fx.z is a watched (2,3,3,4) float32 tensor: 288 bytes. */
    const size_t bytes = kit_elements(Z_DIMS) * sizeof(float);
    unsigned char *buffer = test_alloc(2 * bytes);
    memset(buffer, 0x5a, 2 * bytes);
    const size_t wrong[] = {0, 1, bytes - 1, bytes + 1, bytes - sizeof(float), 2 * bytes};
    for (size_t k = 0; k < sizeof wrong / sizeof wrong[0]; k++) {
        EXPECT_ERROR(clcnn_tensor_write(fx.z, buffer, wrong[k]), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_write", "bytes");
        EXPECT_ERROR(clcnn_tensor_read(fx.z, buffer, wrong[k]), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_read", "bytes");
        for (size_t i = 0; i < 2 * bytes; i++)
            ck_assert_msg(buffer[i] == 0x5a, "a failed tensor_read of %zu bytes wrote to dst", wrong[k]);
    }
    EXPECT_ERROR(clcnn_tensor_write(fx.z, NULL, bytes), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_write", "src");
    EXPECT_ERROR(clcnn_tensor_read(fx.z, NULL, bytes), CLCNN_ERROR_INVALID_ARGUMENT, "tensor_read", "dst");
    EXPECT_STATUS(clcnn_tensor_write(NULL, buffer, bytes), CLCNN_ERROR_INVALID_ARGUMENT);
    EXPECT_STATUS(clcnn_tensor_read(NULL, buffer, bytes), CLCNN_ERROR_INVALID_ARGUMENT);
    free(buffer);
    check_valid_ops_still_work();
}
END_TEST

/* ---- zero_pad ---- */

START_TEST(test_zero_pad_errors)
{
    const char *op = "zero_pad";
    EXPECT_STATUS(clcnn_zero_pad(NULL, fx.a, PAD, fx.x_pad), CLCNN_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(clcnn_zero_pad(ctx, NULL, PAD, fx.x_pad), CLCNN_ERROR_INVALID_ARGUMENT, op, "x");
    EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, PAD, NULL), CLCNN_ERROR_INVALID_ARGUMENT, op, "x_pad");
    EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, -1, fx.x_pad), CLCNN_ERROR_INVALID_ARGUMENT, op, "pad");
    EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, 2, fx.x_pad), CLCNN_ERROR_SHAPE, op, "x_pad");
    const size_t wrong_dims[][4] = {{2, 6, 7, 3}, {2, 7, 6, 3}, {2, 7, 7, 4}, {1, 7, 7, 3}};
    for (size_t k = 0; k < sizeof wrong_dims / sizeof wrong_dims[0]; k++) {
        clcnn_tensor *bad = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, wrong_dims[k]);
        EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, PAD, bad), CLCNN_ERROR_SHAPE, op, "x_pad");
    }
    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        clcnn_tensor *bad = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, PAD_DIMS);
        EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, PAD, bad), CLCNN_ERROR_INVALID_ARGUMENT, op, "x_pad");
    }
    clcnn_tensor *foreign = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, PAD_DIMS);
    EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, PAD, foreign), CLCNN_ERROR_INVALID_ARGUMENT, op, "x_pad");
    clcnn_tensor *foreign_x = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, A_DIMS);
    EXPECT_ERROR(clcnn_zero_pad(ctx, foreign_x, PAD, fx.x_pad), CLCNN_ERROR_INVALID_ARGUMENT, op, "x");
    /* pad 0 makes the dims agree, so only the aliasing is wrong. */
    EXPECT_ERROR(clcnn_zero_pad(ctx, fx.a, 0, fx.a), CLCNN_ERROR_INVALID_ARGUMENT, op, "x_pad", "alias");
    check_valid_ops_still_work();
}
END_TEST

/* ---- conv_forward ---- */

START_TEST(test_conv_forward_errors)
{
    const char *op = "conv_forward";
    EXPECT_STATUS(clcnn_conv_forward(NULL, fx.a, fx.w, fx.b, 1, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(clcnn_conv_forward(ctx, NULL, fx.w, fx.b, 1, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "a_prev");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, NULL, fx.b, 1, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "w");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, NULL, 1, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "b");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, 0, NULL), CLCNN_ERROR_INVALID_ARGUMENT, op, "z");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 0, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "stride");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, -2, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "stride");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, -1, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "pad");

    const size_t w_channels[4] = {3, 3, 4, 4};
    clcnn_tensor *bad_w = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, w_channels);
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, bad_w, fx.b, 1, 0, fx.z), CLCNN_ERROR_SHAPE, op, "w", "a_prev");
    const size_t bias_dims[][4] = {{1, 1, 1, 5}, {1, 1, 1, 3}, {4, 1, 1, 1}, {1, 1, 2, 4}};
    for (size_t k = 0; k < sizeof bias_dims / sizeof bias_dims[0]; k++) {
        clcnn_tensor *bad_b = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, bias_dims[k]);
        EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, bad_b, 1, 0, fx.z), CLCNN_ERROR_SHAPE, op, "b");
    }
    const size_t z_dims[][4] = {{2, 3, 3, 5}, {2, 4, 3, 4}, {2, 3, 2, 4}, {1, 3, 3, 4}};
    for (size_t k = 0; k < sizeof z_dims / sizeof z_dims[0]; k++) {
        clcnn_tensor *bad_z = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, z_dims[k]);
        EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, 0, bad_z), CLCNN_ERROR_SHAPE, op, "z");
    }
    /* Right z for stride 1 but not for stride 2 / pad 1. */
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 2, 0, fx.z), CLCNN_ERROR_SHAPE, op, "z");
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, 1, fx.z), CLCNN_ERROR_SHAPE, op, "z");
    /* Windows larger than the padded 5x5 input, square and not. */
    const size_t big_w[][4] = {{6, 6, 3, 4}, {6, 1, 3, 4}, {1, 6, 3, 4}};
    for (size_t k = 0; k < sizeof big_w / sizeof big_w[0]; k++) {
        clcnn_tensor *w6 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, big_w[k]);
        EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, w6, fx.b, 1, 0, fx.z), CLCNN_ERROR_SHAPE, op, "w", "window",
                     "a_prev", "f");
    }
    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        clcnn_tensor *w64 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, W_DIMS);
        EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, w64, fx.b, 1, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "w");
        clcnn_tensor *z64 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, Z_DIMS);
        EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, 0, z64), CLCNN_ERROR_INVALID_ARGUMENT, op, "z");
    }
    clcnn_tensor *foreign_b = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, B_DIMS);
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, foreign_b, 1, 0, fx.z), CLCNN_ERROR_INVALID_ARGUMENT, op, "b");
    clcnn_tensor *foreign_z = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, Z_DIMS);
    EXPECT_ERROR(clcnn_conv_forward(ctx, fx.a, fx.w, fx.b, 1, 0, foreign_z), CLCNN_ERROR_INVALID_ARGUMENT, op, "z");
    /* 1x1 weights 3 -> 3 channels: z has a_prev's dims, only aliasing is wrong. */
    const size_t w1_dims[4] = {1, 1, 3, 3}, b3_dims[4] = {1, 1, 1, 3};
    clcnn_tensor *w1 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, w1_dims);
    clcnn_tensor *b3 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, b3_dims);
    clcnn_tensor *a_alias = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, A_DIMS);
    EXPECT_ERROR(clcnn_conv_forward(ctx, a_alias, w1, b3, 1, 0, a_alias), CLCNN_ERROR_INVALID_ARGUMENT, op, "z",
                 "alias");
    check_valid_ops_still_work();
}
END_TEST

/* ---- conv_forward_ex and conv_backward_ex: the 0.2 params ---- */

/* One call of each _ex op with these params: both must fail with `want`,
 * a message naming the op and `field` (with its numbers), and no output
 * touched. */
static void expect_conv_ex_error(int line, const clcnn_conv_params *params, clcnn_status want, const char *field)
{
    const char *fwd_args[] = {field, NULL}, *bwd_args[] = {field, NULL};
    test_expect_error_at(&fx.watch, line, "clcnn_conv_forward_ex",
                         clcnn_conv_forward_ex(ctx, fx.a, fx.w, fx.b, params, CLCNN_ACTIVATION_NONE, fx.z), want, ctx,
                         "conv_forward_ex", fwd_args);
    test_expect_error_at(&fx.watch, line, "clcnn_conv_backward_ex",
                         clcnn_conv_backward_ex(ctx, fx.dz, fx.a, fx.w, params, fx.da_prev, fx.dw, fx.db), want, ctx,
                         "conv_backward_ex", bwd_args);
}

START_TEST(test_conv_ex_errors)
{
    const clcnn_conv_params good = clcnn_conv_params_default(1, 0);
    /* Every field below its least value, named with the value. */
    const struct {
        size_t offset;
        int value;
        const char *message;
    } fields[] = {
        {offsetof(clcnn_conv_params, stride_h), 0, "params->stride_h is 0"},
        {offsetof(clcnn_conv_params, stride_w), -1, "params->stride_w is -1"},
        {offsetof(clcnn_conv_params, pad_top), -1, "params->pad_top is -1"},
        {offsetof(clcnn_conv_params, pad_bottom), -2, "params->pad_bottom is -2"},
        {offsetof(clcnn_conv_params, pad_left), -3, "params->pad_left is -3"},
        {offsetof(clcnn_conv_params, pad_right), -4, "params->pad_right is -4"},
        {offsetof(clcnn_conv_params, dilation_h), 0, "params->dilation_h is 0"},
        {offsetof(clcnn_conv_params, dilation_w), -1, "params->dilation_w is -1"},
        {offsetof(clcnn_conv_params, groups), 0, "params->groups is 0"},
    };
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        clcnn_conv_params bad = good;
        *(int *)((char *)&bad + fields[k].offset) = fields[k].value;
        expect_conv_ex_error(__LINE__, &bad, CLCNN_ERROR_INVALID_ARGUMENT, fields[k].message);
    }
    expect_conv_ex_error(__LINE__, NULL, CLCNN_ERROR_INVALID_ARGUMENT, "params is NULL");
    /* Groups that do not divide a_prev's 3 channels, or w's 4. */
    clcnn_conv_params groups = good;
    groups.groups = 2;
    expect_conv_ex_error(__LINE__, &groups, CLCNN_ERROR_INVALID_ARGUMENT, "params->groups is 2");
    groups.groups = 3;
    expect_conv_ex_error(__LINE__, &groups, CLCNN_ERROR_INVALID_ARGUMENT, "does not divide w's 4 channels");
    /* Groups that divide both, but w has n_C_prev channels, not n_C_prev / groups. */
    const size_t w_g3_dims[4] = {3, 3, 3, 6}, b6_dims[4] = {1, 1, 1, 6}, z6_dims[4] = {2, 3, 3, 6};
    clcnn_tensor *w_g3 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, w_g3_dims);
    clcnn_tensor *b6 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, b6_dims);
    clcnn_tensor *z6 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, z6_dims);
    EXPECT_ERROR(clcnn_conv_forward_ex(ctx, fx.a, w_g3, b6, &groups, CLCNN_ACTIVATION_NONE, z6), CLCNN_ERROR_SHAPE,
                 "conv_forward_ex", "need 1 per group");
    /* An unknown activation. */
    EXPECT_ERROR(clcnn_conv_forward_ex(ctx, fx.a, fx.w, fx.b, &good, (clcnn_activation)2, fx.z),
                 CLCNN_ERROR_INVALID_ARGUMENT, "conv_forward_ex", "act is 2");
    /* A dilated window larger than the padded input: 3 taps 3 apart span 7 > 5. */
    clcnn_conv_params dilated = good;
    dilated.dilation_w = 3;
    expect_conv_ex_error(__LINE__, &dilated, CLCNN_ERROR_SHAPE, "spans 3 x 7");
    /* Params that agree with the tensors' dims except z's: pads of one side. */
    clcnn_conv_params asymmetric = good;
    asymmetric.pad_right = 2;
    expect_conv_ex_error(__LINE__, &asymmetric, CLCNN_ERROR_SHAPE, "z");
    /* No bias is a valid forward. */
    clcnn_tensor *z = test_tensor_out(ctx, CLCNN_FLOAT32, Z_DIMS);
    TEST_OK(ctx, clcnn_conv_forward_ex(ctx, fx.a, fx.w, NULL, &good, CLCNN_ACTIVATION_RELU, z));
    clcnn_tensor_destroy(z);
    check_valid_ops_still_work();
}
END_TEST

/* ---- conv_backward ---- */

START_TEST(test_conv_backward_errors)
{
    const char *op = "conv_backward";
    EXPECT_STATUS(clcnn_conv_backward(NULL, fx.dz, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, fx.db),
                  CLCNN_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(clcnn_conv_backward(ctx, NULL, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "dz");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, NULL, fx.w, 1, 0, fx.da_prev, fx.dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "a_prev");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, NULL, 1, 0, fx.da_prev, fx.dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "w");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, NULL, NULL, NULL), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "da_prev", "dw", "db");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 0, 0, fx.da_prev, fx.dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "stride");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, -3, fx.da_prev, fx.dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "pad");

    const size_t dz_dims[][4] = {{2, 3, 3, 5}, {2, 2, 3, 4}, {2, 3, 4, 4}, {3, 3, 3, 4}};
    for (size_t k = 0; k < sizeof dz_dims / sizeof dz_dims[0]; k++) {
        clcnn_tensor *bad_dz = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, dz_dims[k]);
        EXPECT_ERROR(clcnn_conv_backward(ctx, bad_dz, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, fx.db), CLCNN_ERROR_SHAPE,
                     op, "dz");
    }
    const size_t da_dims[][4] = {{2, 5, 5, 4}, {2, 5, 4, 3}, {1, 5, 5, 3}};
    for (size_t k = 0; k < sizeof da_dims / sizeof da_dims[0]; k++) {
        clcnn_tensor *bad_da = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, da_dims[k]);
        EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, bad_da, fx.dw, fx.db), CLCNN_ERROR_SHAPE, op,
                     "da_prev");
        EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, bad_da, NULL, NULL), CLCNN_ERROR_SHAPE, op,
                     "da_prev");
    }
    const size_t dw_dims[4] = {3, 3, 3, 5}, dw_swapped[4] = {3, 3, 4, 3};
    clcnn_tensor *bad_dw = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, dw_dims);
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, fx.da_prev, bad_dw, fx.db), CLCNN_ERROR_SHAPE, op,
                 "dw");
    clcnn_tensor *bad_dw2 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, dw_swapped);
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, NULL, bad_dw2, NULL), CLCNN_ERROR_SHAPE, op, "dw");
    const size_t db_dims[][4] = {{1, 1, 1, 3}, {4, 1, 1, 1}};
    for (size_t k = 0; k < sizeof db_dims / sizeof db_dims[0]; k++) {
        clcnn_tensor *bad_db = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, db_dims[k]);
        EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, bad_db), CLCNN_ERROR_SHAPE,
                     op, "db");
        EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, NULL, NULL, bad_db), CLCNN_ERROR_SHAPE, op,
                     "db");
    }
    const size_t w_channels[4] = {3, 3, 4, 4};
    clcnn_tensor *bad_w = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, w_channels);
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, bad_w, 1, 0, fx.da_prev, fx.dw, fx.db), CLCNN_ERROR_SHAPE, op,
                 "w", "a_prev");
    /* dz is right for stride 1, pad 0 only. */
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 2, 0, fx.da_prev, fx.dw, fx.db), CLCNN_ERROR_SHAPE, op,
                 "dz");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 2, fx.da_prev, fx.dw, fx.db), CLCNN_ERROR_SHAPE, op,
                 "dz");
    const size_t big_w[4] = {6, 6, 3, 4};
    clcnn_tensor *w6 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, big_w);
    clcnn_tensor *dw6 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, big_w);
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, w6, 1, 0, fx.da_prev, dw6, fx.db), CLCNN_ERROR_SHAPE, op, "w",
                 "window", "a_prev", "f");
    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        clcnn_tensor *dz64 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, Z_DIMS);
        EXPECT_ERROR(clcnn_conv_backward(ctx, dz64, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, fx.db),
                     CLCNN_ERROR_INVALID_ARGUMENT, op, "dz", "a_prev");
        clcnn_tensor *db64 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, B_DIMS);
        EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, db64),
                     CLCNN_ERROR_INVALID_ARGUMENT, op, "db");
    }
    clcnn_tensor *foreign_dw = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, W_DIMS);
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, fx.da_prev, foreign_dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "dw");
    clcnn_tensor *foreign_dz = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, Z_DIMS);
    EXPECT_ERROR(clcnn_conv_backward(ctx, foreign_dz, fx.a, fx.w, 1, 0, fx.da_prev, fx.dw, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "dz");
    /* Outputs with the dims of the inputs they alias. */
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, fx.a, fx.dw, fx.db), CLCNN_ERROR_INVALID_ARGUMENT,
                 op, "da_prev", "alias");
    EXPECT_ERROR(clcnn_conv_backward(ctx, fx.dz, fx.a, fx.w, 1, 0, fx.da_prev, fx.w, fx.db),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "dw", "alias");
    /* Two outputs sharing one tensor: a (3,3,3,3) and w (3,3,3,3). */
    const size_t cube[4] = {3, 3, 3, 3}, cube_z[4] = {3, 1, 1, 3};
    clcnn_tensor *cube_a = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, cube);
    clcnn_tensor *cube_w = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, cube);
    clcnn_tensor *cube_dz = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, cube_z);
    clcnn_tensor *cube_out = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, cube);
    EXPECT_ERROR(clcnn_conv_backward(ctx, cube_dz, cube_a, cube_w, 1, 0, cube_out, cube_out, NULL),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "da_prev", "dw", "alias");
    check_valid_ops_still_work();
}
END_TEST

/* ---- pooling ---- */

START_TEST(test_pool_forward_errors)
{
    const char *op = "pool_forward";
    const clcnn_pool_mode max = CLCNN_POOL_MAX;
    EXPECT_STATUS(clcnn_pool_forward(NULL, fx.a, POOL_F, POOL_STRIDE, max, fx.pool_out), CLCNN_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(clcnn_pool_forward(ctx, NULL, POOL_F, POOL_STRIDE, max, fx.pool_out), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "a_prev");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, max, NULL), CLCNN_ERROR_INVALID_ARGUMENT, op, "a");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, 0, POOL_STRIDE, max, fx.pool_out), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "f");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, -2, POOL_STRIDE, max, fx.pool_out), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "f");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, 0, max, fx.pool_out), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "stride");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, (clcnn_pool_mode)7, fx.pool_out),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "mode");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, (clcnn_pool_mode)-1, fx.pool_out),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "mode");
    const size_t out_dims[][4] = {{2, 4, 4, 4}, {2, 3, 4, 3}, {2, 4, 5, 3}, {1, 4, 4, 3}};
    for (size_t k = 0; k < sizeof out_dims / sizeof out_dims[0]; k++) {
        clcnn_tensor *bad = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, out_dims[k]);
        EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, max, bad), CLCNN_ERROR_SHAPE, op, "a");
    }
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, 3, POOL_STRIDE, max, fx.pool_out), CLCNN_ERROR_SHAPE, op, "a");
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, 6, 1, max, fx.pool_out), CLCNN_ERROR_SHAPE, op, "f", "window");
    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        clcnn_tensor *out64 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, POOL_DIMS);
        EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, max, out64), CLCNN_ERROR_INVALID_ARGUMENT, op,
                     "a");
    }
    clcnn_tensor *foreign = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, POOL_DIMS);
    EXPECT_ERROR(clcnn_pool_forward(ctx, fx.a, POOL_F, POOL_STRIDE, max, foreign), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "a");
    clcnn_tensor *a_alias = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, A_DIMS);
    EXPECT_ERROR(clcnn_pool_forward(ctx, a_alias, 1, 1, CLCNN_POOL_AVERAGE, a_alias), CLCNN_ERROR_INVALID_ARGUMENT, op,
                 "a", "alias");
    check_valid_ops_still_work();
}
END_TEST

START_TEST(test_pool_backward_errors)
{
    const char *op = "pool_backward";
    const clcnn_pool_mode avg = CLCNN_POOL_AVERAGE;
    EXPECT_STATUS(clcnn_pool_backward(NULL, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, avg, fx.pool_da_prev),
                  CLCNN_ERROR_INVALID_ARGUMENT);
    EXPECT_ERROR(clcnn_pool_backward(ctx, NULL, fx.a, POOL_F, POOL_STRIDE, avg, fx.pool_da_prev),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "da");
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, NULL, POOL_F, POOL_STRIDE, avg, fx.pool_da_prev),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "a_prev");
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, avg, NULL),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "da_prev");
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, 0, POOL_STRIDE, avg, fx.pool_da_prev),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "f");
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, -1, avg, fx.pool_da_prev),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "stride");
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, (clcnn_pool_mode)7, fx.pool_da_prev),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "mode");
    const size_t da_dims[][4] = {{2, 4, 4, 4}, {2, 3, 4, 3}, {1, 4, 4, 3}};
    for (size_t k = 0; k < sizeof da_dims / sizeof da_dims[0]; k++) {
        clcnn_tensor *bad = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, da_dims[k]);
        EXPECT_ERROR(clcnn_pool_backward(ctx, bad, fx.a, POOL_F, POOL_STRIDE, avg, fx.pool_da_prev), CLCNN_ERROR_SHAPE,
                     op, "da");
    }
    const size_t da_prev_dims[][4] = {{2, 5, 5, 4}, {2, 5, 6, 3}, {1, 5, 5, 3}};
    for (size_t k = 0; k < sizeof da_prev_dims / sizeof da_prev_dims[0]; k++) {
        clcnn_tensor *bad = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, da_prev_dims[k]);
        EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, avg, bad), CLCNN_ERROR_SHAPE, op,
                     "da_prev");
    }
    /* da fits f 2, stride 1 only. */
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, 3, 1, avg, fx.pool_da_prev), CLCNN_ERROR_SHAPE, op, "da");
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, 6, 1, avg, fx.pool_da_prev), CLCNN_ERROR_SHAPE, op, "f",
                 "window");
    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        clcnn_tensor *da64 = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT64, POOL_DIMS);
        EXPECT_ERROR(clcnn_pool_backward(ctx, da64, fx.a, POOL_F, POOL_STRIDE, avg, fx.pool_da_prev),
                     CLCNN_ERROR_INVALID_ARGUMENT, op, "da", "a_prev");
    }
    clcnn_tensor *foreign = test_watch_output(&fx.watch, fx.other_ctx, CLCNN_FLOAT32, A_DIMS);
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, avg, foreign),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "da_prev");
    /* da_prev always has a_prev's dims; with f 1, stride 1 also da's. */
    EXPECT_ERROR(clcnn_pool_backward(ctx, fx.pool_da, fx.a, POOL_F, POOL_STRIDE, CLCNN_POOL_MAX, fx.a),
                 CLCNN_ERROR_INVALID_ARGUMENT, op, "da_prev", "alias");
    clcnn_tensor *same = test_watch_output(&fx.watch, ctx, CLCNN_FLOAT32, A_DIMS);
    EXPECT_ERROR(clcnn_pool_backward(ctx, same, fx.a, 1, 1, avg, same), CLCNN_ERROR_INVALID_ARGUMENT, op, "da_prev",
                 "alias");
    check_valid_ops_still_work();
}
END_TEST

/* A test case added to suite; one that needs_device gets the context fixture. */
static TCase *errors_tcase(Suite *suite, const char *name, int needs_device)
{
    TCase *tc = tcase_create(name);
    if (needs_device) {
        tcase_set_timeout(tc, 600);
        tcase_add_checked_fixture(tc, setup, teardown);
    }
    suite_add_tcase(suite, tc);
    return tc;
}

int main(void)
{
    Suite *suite = suite_create("errors");
    TCase *api = errors_tcase(suite, "no_device_needed", 0);
    tcase_add_test(api, test_status_strings);
    tcase_add_test(api, test_version_and_null_no_ops);

    int rc = test_open_context(&ctx);
    if (rc == TEST_SKIP_EXIT_CODE) {
        /* Still check what needs no device, then report the skip. */
        rc = test_run_suite(suite);
        return rc == EXIT_SUCCESS ? TEST_SKIP_EXIT_CODE : rc;
    }
    if (rc != 0)
        return rc;

    TCase *context = errors_tcase(suite, "context", 1);
    tcase_add_test(context, test_context_specs);
    tcase_add_test(context, test_context_env_var);
    tcase_add_test(context, test_context_spec_pocl);
    TCase *tensor = errors_tcase(suite, "tensor", 1);
    tcase_add_test(tensor, test_tensor_basics);
    tcase_add_test(tensor, test_tensor_create_errors);
    tcase_add_test(tensor, test_tensor_transfer_errors);
    TCase *ops = errors_tcase(suite, "op_errors", 1);
    tcase_add_test(ops, test_zero_pad_errors);
    tcase_add_test(ops, test_conv_forward_errors);
    tcase_add_test(ops, test_conv_backward_errors);
    tcase_add_test(ops, test_conv_ex_errors);
    tcase_add_test(ops, test_pool_forward_errors);
    tcase_add_test(ops, test_pool_backward_errors);

    rc = test_run_suite(suite);
    clcnn_context_destroy(ctx);
    return rc;
}
