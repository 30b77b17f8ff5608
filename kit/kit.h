/* The verification kit: what the tests (tests/), the clcnn command's check,
 * bench and demo (tools/) and the fuzzer (fuzz/) share to drive ops and judge
 * their results. One seeded generator, the dtype facts and the per-dtype
 * case loop, double arrays in and out of tensors, the error measure with its
 * one tolerance, the one way of showing a mismatch, the central-difference
 * gradient check, the sum|terms| of every op's values, and the
 * watched-tensor fixture of the error tests.
 *
 * It uses only the public API (clcnn.h) and the CPU reference
 * (clcnn_reference.h): no OpenCL, no test framework. Its functions return
 * results and statuses, printing only to a stream the caller gives; the
 * caller decides what a failure means (a Check assertion, an exit status). Whoever links libclcnn_kit.a also links the
 * library itself (libclcnn, or the fuzzer's compiled-in sources); a program
 * that calls only the RNG, dtype and comparison functions, such as the
 * reference's own test, needs neither the library nor OpenCL. */
#ifndef CLCNN_KIT_H
#define CLCNN_KIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clcnn.h"

/* ---- the tolerance ----
 *
 * A value passes when |device - reference| <= KIT_TOLERANCE * eps * sum|terms|,
 * eps being FLT_EPSILON or DBL_EPSILON and sum|terms| the sum of the absolute
 * values of everything that went into the value (for a convolution: the
 * reference run on absolute inputs). Ops without arithmetic (zero_pad, ReLU,
 * max pooling forward) have no terms and must match exactly.
 *
 * Why 8: the bound must hold on any conforming OpenCL device, since
 * `clcnn check` is meant for new GPUs and drivers, not only for POCL. OpenCL
 * 1.2 lets single-precision division be off by 2.5 ulp (exp and log by 3),
 * where POCL rounds correctly. Average pooling divides a sum of f*f terms by
 * the window's area: on a 2x2 window that is 1.5 eps*sum|terms| of rounding
 * in the sum plus 2.5 in the division, 4.0 in the worst case, all that a
 * bound of 4 would allow; softmax's backward, a subtraction then a
 * division, takes 3.0. On POCL, whose division rounds correctly, the worst
 * measured is 4.09: float32 average pooling of a 17x17 window of ReLU'd
 * inputs (test_pool), 289 rounding errors of one sign, which fails a bound
 * of 4 on POCL itself (docs/tolerance.md has every op's figures). 8
 * leaves every op about twice its measured error and its division's
 * budget; a real bug (a lost term, a wrong index, float accumulation in
 * float64) is off by millions of eps*sum|terms|, so 8 instead of 4 hides
 * none. */
#define KIT_TOLERANCE 8.0

/* ---- dtypes ---- */

/* The 16-bit dtypes compute in float: their eps and min_normal are
 * float's (the arithmetic's), their storage rounding is kit_dtype_storage_unit. */
double kit_dtype_eps(clcnn_dtype dtype);        /* FLT_EPSILON / DBL_EPSILON */
double kit_dtype_min_normal(clcnn_dtype dtype); /* FLT_MIN / DBL_MIN */
size_t kit_dtype_size(clcnn_dtype dtype);       /* 4 / 8 / 2 */
const char *kit_dtype_name(clcnn_dtype dtype);  /* "float32" / "float64" / "float16" / "bfloat16" */
/* u, the relative error of one rounding to a 16-bit storage (2^-11 for
 * float16, 2^-8 for bfloat16); 0 for float32 and float64, whose stores do
 * not round what their arithmetic computed. */
double kit_dtype_storage_unit(clcnn_dtype dtype);
/* The smallest positive value of the storage (the subnormal step): the
 * absolute term of the 16-bit bound (docs/tolerance.md). */
double kit_dtype_storage_tiny(clcnn_dtype dtype);

/* The 16-bit formats in double arithmetic, written apart from the kernels'
 * bit manipulations so that each checks the other: value rounded to nearest
 * even (ties to even, overflow to infinity, NaN to a quiet NaN of its sign),
 * and a pattern's exact value. */
uint16_t kit_float16_from_double(double value);
uint16_t kit_bfloat16_from_double(double value);
double kit_float16_to_double(uint16_t bits);
double kit_bfloat16_to_double(uint16_t bits);

/* The value a tensor of dtype stores for value (float32: rounded to float). */
double kit_round_to_dtype(clcnn_dtype dtype, double value);
void kit_round_all(clcnn_dtype dtype, double *values, size_t n);

/* A case table is run once per dtype: KIT_DTYPE_COUNT runs a row, run i
 * being row i / KIT_DTYPE_COUNT in kit_case_dtype(i) (float32, then
 * float64), named kit_case_name's "CASE/DTYPE" in every message. */
#define KIT_DTYPE_COUNT 2
clcnn_dtype kit_case_dtype(int run);
void kit_case_name(char *name, size_t size, const char *case_name, clcnn_dtype dtype);

size_t kit_elements(const size_t dims[4]);
/* out[i] = |x[i]|; out may be x. */
void kit_abs(const double *x, double *out, size_t n);

/* ---- seeded random numbers: splitmix64 ---- */

typedef struct kit_rng {
    uint64_t state;
} kit_rng;

/* A seed of its own for each stream (a test case, an op) of one base seed:
 * nearby bases and streams give unrelated numbers. */
uint64_t kit_seed_stream(uint64_t base, uint64_t stream);

void kit_rng_init(kit_rng *rng, uint64_t seed);
uint64_t kit_rng_next(kit_rng *rng);
double kit_rng_uniform(kit_rng *rng);          /* [0, 1) */
double kit_rng_normal(kit_rng *rng);           /* standard normal (Box-Muller) */
size_t kit_rng_below(kit_rng *rng, size_t n);  /* [0, n), n > 0, without modulo bias */
int kit_rng_int(kit_rng *rng, int lo, int hi); /* [lo, hi] */

/* What kit_rng_fill draws. Every pattern but KIT_INTEGERS draws one normal
 * number per element and shapes it, so that a stream gives the same
 * positions whatever the pattern. */
typedef enum kit_pattern {
    KIT_NORMAL,            /* standard normal */
    KIT_NORMAL_WITH_ZEROS, /* normal, with 0 and -0 mixed in: the edge of ReLU */
    KIT_RELU,              /* max(0, x): half zeros, some whole windows of 0 */
    KIT_RELU_SPARSE,       /* max(0, x - 1): mostly zeros */
    KIT_QUANTIZED,         /* round(2x) / 2: ties between non-zero values */
    KIT_INTEGERS,          /* uniform in -2..2: ties everywhere */
    KIT_ZEROS,             /* every window a tie */
    KIT_PATTERN_COUNT
} kit_pattern;

const char *kit_pattern_name(kit_pattern pattern);
/* Fills values with the pattern, rounded to dtype, so that the device and
 * the double reference see the same inputs. */
void kit_rng_fill(kit_rng *rng, clcnn_dtype dtype, kit_pattern pattern, double *values, size_t n);

/* ---- double arrays in and out of tensors ---- */

/* A new tensor holding values, or with values NULL filled with NaN so that
 * any element an op fails to write shows up as a mismatch. On failure
 * *tensor is NULL. */
clcnn_status kit_tensor_new(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], const double *values,
                            clcnn_tensor **tensor);
/* The whole tensor from / into one double per element. */
clcnn_status kit_tensor_write(clcnn_tensor *tensor, const double *values);
clcnn_status kit_tensor_read(const clcnn_tensor *tensor, double *values);
/* The tensor's bytes as stored, into a new malloc'ed buffer (*raw NULL on
 * failure). */
clcnn_status kit_tensor_read_raw(const clcnn_tensor *tensor, void **raw, size_t *bytes);
/* *equal: whether the tensor holds exactly these bytes (bitwise: the
 * determinism checks and untouched outputs). */
clcnn_status kit_tensor_equals_raw(const clcnn_tensor *tensor, const void *expected, size_t bytes, int *equal);

/* ---- judging values ---- */

/* How far got is from ref in units of bound: 0 when they are equal
 * (infinities included), infinity when either is NaN or they differ and the
 * bound is not positive, else |got - ref| / bound. */
double kit_error_ratio(double got, double ref, double bound);
/* Whether |got - ref| <= bound (bound 0: equal); NaN never is. */
int kit_within(double got, double ref, double bound);
/* bound[i] = KIT_TOLERANCE * eps(dtype) * terms[i]; bound may be terms. */
void kit_tolerance_bounds(clcnn_dtype dtype, const double *terms, double *bound, size_t n);
/* The error of a value stored in 16 bits (float16, bfloat16) against the
 * double reference, scaled so that it passes when at most KIT_TOLERANCE:
 * KIT_TOLERANCE |got - ref| / (B + u (|ref| + B) + tiny), B = KIT_TOLERANCE
 * eps32 terms, u = kit_dtype_storage_unit (docs/tolerance.md); 0 for an
 * infinity where the float result within B of ref overflows the storage;
 * terms 0 demands equality. tiny: kit_dtype_storage_tiny, or float's
 * smallest normal for bfloat16 where the device flushes float denormals. */
double kit_storage_error(clcnn_dtype dtype, double got, double ref, double terms, double tiny);
/* The worst scaled error of got against ref: the largest
 * |got - ref| / (eps(dtype) * terms[i]), in eps*sum|terms|; the values pass
 * when it is at most KIT_TOLERANCE. terms NULL (or a zero term) demands
 * equality: 0 or infinity; NaN counts as infinity. 16-bit dtypes:
 * kit_storage_error of each value (with the storage's subnormal step as
 * tiny). *worst_index (if not NULL) gets the index of the worst value. */
double kit_scaled_error(const double *got, const double *ref, const double *terms, size_t n, clcnn_dtype dtype,
                        size_t *worst_index);

/* ---- showing mismatches ----
 * Every failure shows a value and its reference alike: the exact bits (%a)
 * and a readable decimal, with the case, the index and the seed that
 * replays it. */

/* How many mismatches kit_report_mismatches prints for one array before it
 * only counts. */
#define KIT_MAX_REPORTED_MISMATCHES 5

/* "got %a (%.17g), ref %a (%.17g), |diff| %.3g" into buf; returns buf. */
const char *kit_mismatch_text(char *buf, size_t size, double got, double ref);
/* Compares got with ref element-wise: a mismatch is !kit_within(got[i],
 * ref[i], bound[i]); bound NULL means exact. Prints the first
 * KIT_MAX_REPORTED_MISMATCHES to out, each as "MISMATCH case CASE,
 * WHAT[i]: <kit_mismatch_text>, bound B, seed 0xS", then a count line when
 * there were more. *worst_ratio (if not NULL) gets the largest |diff| /
 * bound over the positive bounds, to see how much room the tolerance
 * leaves. Returns the number of mismatches. */
size_t kit_report_mismatches(FILE *out, const char *case_name, const char *what, const double *got, const double *ref,
                             const double *bound, size_t n, uint64_t seed, double *worst_ratio);

/* ---- gradient checks: central differences ---- */

/* The loss at the current values of the array being varied; problem is the
 * caller's (it writes the array to a tensor first when the loss runs on a
 * device). */
typedef double (*kit_loss_fn)(void *problem);
/* numeric[i] = (L(x[i] + step) - L(x[i] - step)) / (the difference of the two
 * points as stored) for every i, L being loss(problem): x[i] is changed in
 * place around the two calls and put back. Dividing by the stored points'
 * difference rather than 2 * step leaves only the loss's own rounding. A
 * device loss's tensor still holds the last point afterwards: write x back. */
void kit_central_differences(double *x, size_t n, double step, kit_loss_fn loss, void *problem, double *numeric);

/* ---- sum|terms| of every value of an op ----
 * What each op's results are judged by (KIT_TOLERANCE above). The linear
 * ops get it from the reference run on absolute values; the others from how
 * each value is computed. Arguments are those of the matching clcnn_ref_*
 * function (the _ex one for convolution and pooling; b may be NULL). The functions that allocate return 0, or -1 when
 * out of memory. */

int kit_conv_forward_terms(const double *a_prev, const size_t a_dims[4], const double *w, const size_t w_dims[4],
                           const double *b, const clcnn_conv_params *params, double *z_terms);
/* Any of the outputs may be NULL. Pixels no window covers get 0: their dA
 * must be exactly 0. */
int kit_conv_backward_terms(const double *dz, const double *a_prev, const size_t a_dims[4], const double *w,
                            const size_t w_dims[4], const clcnn_conv_params *params, double *da_terms, double *dw_terms,
                            double *db_terms);
/* Max pooling selects: all terms 0 (exact). */
int kit_pool_forward_terms(const double *a_prev, const size_t a_dims[4], const clcnn_pool_params *params,
                           clcnn_pool_mode mode, double *a_terms);
int kit_pool_backward_terms(const double *da, const double *a_prev, const size_t a_dims[4],
                            const clcnn_pool_params *params, clcnn_pool_mode mode, double *da_prev_terms);
/* probs_ref and loss_ref: the reference's probs and loss of these logits;
 * any output may be NULL. */
void kit_softmax_cross_entropy_forward_terms(clcnn_dtype dtype, const double *logits, const size_t logits_dims[4],
                                             const double *labels, const double *probs_ref, const double *loss_ref,
                                             double *probs_terms, double *loss_terms, double *mean_terms);
void kit_softmax_cross_entropy_backward_terms(clcnn_dtype dtype, const double *probs, const size_t probs_dims[4],
                                              const double *labels, double *dlogits_terms);
/* param, grad and velocity as before the update (velocity NULL: none);
 * velocity_terms may be NULL. */
void kit_sgd_update_terms(const double *param, const double *grad, const double *velocity, size_t n, double lr,
                          double momentum, double weight_decay, double *param_terms, double *velocity_terms);

/* ---- watched tensors: the fixture of the error tests ----
 * Tensors that no failing call may change. Each is created here, holding
 * given values or the sentinel pattern, and its bytes are kept; a check
 * reads every one back and compares. The watch owns its tensors. */

#define KIT_MAX_WATCHED 48

typedef struct kit_watch {
    int count;
    clcnn_tensor *tensor[KIT_MAX_WATCHED];
    void *expected[KIT_MAX_WATCHED];
    size_t bytes[KIT_MAX_WATCHED];
} kit_watch;

/* A new tensor of ctx holding values, or with values NULL the sentinel
 * pattern (1000 + i/4 in steps that float stores exactly, so that any write
 * shows), watched from now on. CLCNN_ERROR_OUT_OF_MEMORY when the watch is
 * full. */
clcnn_status kit_watch_new(kit_watch *watch, clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4],
                           const double *values, clcnn_tensor **tensor);
/* The index of the first watched tensor that no longer holds its bytes, or
 * -1 when none changed. A tensor that cannot be read counts as changed;
 * *status (if not NULL) gets that read's status, else CLCNN_OK. */
int kit_watch_first_changed(const kit_watch *watch, clcnn_status *status);
/* Destroys every watched tensor; the watch is empty again. */
void kit_watch_release(kit_watch *watch);

#endif
