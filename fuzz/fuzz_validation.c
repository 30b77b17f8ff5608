/* libFuzzer target over argument validation: each input is a little
 * program of tensor creations, transfers and op calls with arbitrary dims,
 * strides, pads, windows, modes, dtypes, NULLs, aliasing and tensors of
 * other (or failed) contexts. For every call the harness decides from the
 * arguments alone, with its own rules, which statuses are right:
 *   - none fits (the call is valid): the library must return CLCNN_OK;
 *   - otherwise it must return one of them, with a message naming the op,
 *     without enqueuing a kernel (the context's enqueue counter, see
 *     clcnn_fault in host/runtime/internal.h) and without changing any tensor (every
 *     tensor holds a known pattern, read back after each call).
 * Any disagreement, crash, sanitizer report or hang is a finding.
 *
 * Built against the library's sources (white box: it reads the context's
 * fault counters and device handle), with clang's -fsanitize=fuzzer,address,
 * undefined; see scripts/fuzz.sh. The contexts are created once per process.
 * Tensors over FUZZ_MAX_TENSOR_BYTES and valid calls over FUZZ_MAX_WORK
 * multiply-adds are not made, so that the time goes to validation, not to
 * memory and arithmetic. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/op_table.h"
#include "internal.h"
#include "kit.h"

#define SLOTS 8
#define MAX_CALL_TENSORS 6
#define MAX_STEPS 32
#define FUZZ_MAX_TENSOR_BYTES ((size_t)1 << 20)
#define FUZZ_MAX_WORK 4.0e6

#define BIT(status) (1u << (status))
#define INVALID BIT(CLCNN_ERROR_INVALID_ARGUMENT)
#define SHAPE BIT(CLCNN_ERROR_SHAPE)
#define UNSUPPORTED BIT(CLCNN_ERROR_UNSUPPORTED)
#define POISON 0xA5

enum { CTX_MAIN, CTX_OTHER, CTX_FAILED, CTX_COUNT };

static clcnn_context *contexts[CTX_COUNT];
static cl_ulong max_alloc;
static int has_fp64;

/* A tensor and what the harness knows of it: its own record of dims, dtype
 * and context (never read from the library), and the bytes it must hold. */
typedef struct meta {
    clcnn_tensor *t;
    clcnn_context *ctx;
    clcnn_dtype dtype;
    size_t dims[4];
    size_t count, bytes;
    unsigned char *shadow;
} meta;

static meta slots[SLOTS];

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

static uint8_t next_byte(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* Mostly 0..8, sometimes a value at a boundary. */
static size_t next_dim(reader *r)
{
    static const size_t special[16] = {9,
                                       15,
                                       16,
                                       17,
                                       32,
                                       64,
                                       255,
                                       4096,
                                       46341,
                                       65536,
                                       (size_t)1 << 28,
                                       (size_t)INT_MAX,
                                       (size_t)INT_MAX + 1,
                                       (size_t)1 << 32,
                                       SIZE_MAX / 2 + 1,
                                       SIZE_MAX};
    uint8_t b = next_byte(r);
    return b < 240 ? b % 9 : special[b - 240];
}

/* Mostly -1..8 (strides, pads, windows), sometimes a boundary. */
static int next_int(reader *r)
{
    static const int special[24] = {INT_MIN,    -2,          -1000,     9,         15,        16,
                                    17,         33,          100,       1000,      30000,     65535,
                                    1 << 20,    1 << 28,     536870000, 536870911, 536870912, 1073741823,
                                    1073741824, INT_MAX - 1, INT_MAX,   23170,     46341,     255};
    uint8_t b = next_byte(r);
    return b < 232 ? (int)(b % 10) - 1 : special[b - 232];
}

static double next_double(reader *r)
{
    static const double values[16] = {0.0,  0.1, 0.5,      0.9,       1.0,   1.5,    -0.0,    -0.1,
                                      -1.0, NAN, INFINITY, -INFINITY, 1e300, 1e-300, DBL_MAX, 2.0};
    return values[next_byte(r) % 16];
}

static clcnn_context *next_context(reader *r)
{
    uint8_t b = next_byte(r) % 16;
    return b < 12 ? contexts[CTX_MAIN] : b < 14 ? contexts[CTX_OTHER] : b < 15 ? contexts[CTX_FAILED] : NULL;
}

static int usable(const clcnn_context *c)
{
    return c == contexts[CTX_MAIN] || c == contexts[CTX_OTHER];
}

static const char *status_name(clcnn_status st)
{
    return clcnn_status_string(st);
}

/* Calls by outcome, printed at exit with CLCNN_FUZZ_STATS=1: how much of
 * the time went to valid calls, and whether each op's were reached. */
enum { OUTCOME_REFUSED, OUTCOME_RAN, OUTCOME_SKIPPED, OUTCOMES };
/* The ops, the tensor calls (create, write, read) and the output dims. */
#define MAX_OPS (CLCNN_OP_COUNT + 5)
static struct {
    const char *op;
    unsigned long n[OUTCOMES];
} stats[MAX_OPS];

static void tally(const char *op, int outcome)
{
    for (int i = 0; i < MAX_OPS; i++) {
        if (stats[i].op == NULL)
            stats[i].op = op;
        if (strcmp(stats[i].op, op) == 0) {
            stats[i].n[outcome]++;
            return;
        }
    }
}

static void print_stats(void)
{
    fprintf(stderr, "%-32s %10s %10s %10s\n", "call", "refused", "ran", "skipped");
    for (int i = 0; i < MAX_OPS && stats[i].op; i++)
        fprintf(stderr, "%-32s %10lu %10lu %10lu\n", stats[i].op, stats[i].n[OUTCOME_REFUSED], stats[i].n[OUTCOME_RAN],
                stats[i].n[OUTCOME_SKIPPED]);
}

static void die(const char *op, const char *what, clcnn_status st, unsigned mask, const clcnn_context *c)
{
    fprintf(stderr, "FUZZ FINDING in %s: %s\n  status %s, statuses the harness allows: 0x%x\n  message: %s\n", op, what,
            status_name(st), mask, c ? clcnn_context_last_error(c) : "(no context)");
    abort();
}

static unsigned long enqueue_count(int i)
{
    return contexts[i]->fault.count[CLCNN_FAULT_ENQUEUE];
}

/* The harness's own element and byte counts; 0 where they overflow. */
static int sizes_of(clcnn_dtype dtype, const size_t dims[4], size_t *count, size_t *bytes)
{
    unsigned __int128 n = 1;
    for (int d = 0; d < 4; d++) {
        n *= dims[d];
        if (n > SIZE_MAX)
            return 0;
    }
    unsigned __int128 b = n * kit_dtype_size(dtype);
    if (n == 0 || b > SIZE_MAX)
        return 0;
    *count = (size_t)n;
    *bytes = (size_t)b;
    return 1;
}

static void release(meta *m)
{
    clcnn_tensor_destroy(m->t);
    free(m->shadow);
    memset(m, 0, sizeof *m);
}

/* Creates a tensor the harness has judged valid and small; fills it with
 * the poison pattern. Returns 0 on any failure (a finding). */
static void create_valid(meta *m, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4])
{
    memset(m, 0, sizeof *m);
    if (!sizes_of(dtype, dims, &m->count, &m->bytes))
        die("tensor_create", "harness bug: create_valid on bad dims", CLCNN_OK, 0, c);
    clcnn_status st = clcnn_tensor_create(c, dtype, dims, &m->t);
    if (st != CLCNN_OK || m->t == NULL)
        die("tensor_create", "a valid tensor was refused", st, 0, c);
    m->ctx = c;
    m->dtype = dtype;
    memcpy(m->dims, dims, sizeof m->dims);
    m->shadow = malloc(m->bytes);
    if (m->shadow == NULL)
        abort();
    memset(m->shadow, POISON, m->bytes);
    st = clcnn_tensor_write(m->t, m->shadow, m->bytes);
    if (st != CLCNN_OK)
        die("tensor_write", "a valid write failed", st, 0, c);
}

/* Whether a tensor of these dims can be made here (valid, under the cap). */
static int creatable(clcnn_dtype dtype, const size_t dims[4])
{
    size_t count, bytes;
    return sizes_of(dtype, dims, &count, &bytes) && bytes <= FUZZ_MAX_TENSOR_BYTES && bytes <= max_alloc;
}

/* Reads m back; it must hold its shadow (update: take the new contents). */
static void check_contents(const char *op, const meta *m, int update, const char *when)
{
    int same = 1;
    clcnn_status st =
        update ? clcnn_tensor_read(m->t, m->shadow, m->bytes) : kit_tensor_equals_raw(m->t, m->shadow, m->bytes, &same);
    if (st != CLCNN_OK)
        die(op, "reading a tensor back failed", st, 0, m->ctx);
    if (!same)
        die(op, when, st, 0, m->ctx);
}

/* ---- tensor creation, transfers ---- */

static void step_create(reader *r)
{
    meta *m = &slots[next_byte(r) % SLOTS];
    clcnn_context *c = next_context(r);
    uint8_t d = next_byte(r);
    clcnn_dtype dtype = (clcnn_dtype)(d < 248 ? d % 4 : d == 250 ? 4 : d == 251 ? -1 : d);
    size_t dims[4];
    for (int i = 0; i < 4; i++)
        dims[i] = next_dim(r);
    uint8_t flags = next_byte(r);
    const int null_out = (flags & 0x1f) == 1, null_dims = (flags & 0x1f) == 2;

    unsigned mask = 0;
    if (!usable(c))
        mask |= INVALID;
    if (null_out || null_dims)
        mask |= INVALID;
    if (dtype != CLCNN_FLOAT32 && dtype != CLCNN_FLOAT64 && dtype != CLCNN_FLOAT16 && dtype != CLCNN_BFLOAT16)
        mask |= INVALID;
    else if (dtype == CLCNN_FLOAT64 && !has_fp64)
        mask |= UNSUPPORTED;
    size_t count, bytes;
    int any_zero = !dims[0] || !dims[1] || !dims[2] || !dims[3];
    if (!null_dims && (any_zero || !sizes_of(dtype, dims, &count, &bytes) || bytes > max_alloc))
        mask |= SHAPE;
    if (mask == 0) {
        if (bytes > FUZZ_MAX_TENSOR_BYTES) {
            tally("tensor_create", OUTCOME_SKIPPED);
            return; /* valid but too big to spend time on */
        }
        tally("tensor_create", OUTCOME_RAN);
        release(m);
        create_valid(m, c, dtype, dims);
        size_t got_dims[4];
        clcnn_tensor_dims(m->t, got_dims);
        if (memcmp(got_dims, dims, sizeof got_dims) != 0 || clcnn_tensor_dtype(m->t) != dtype)
            die("tensor_create", "dims or dtype read back differ", CLCNN_OK, 0, c);
        return;
    }
    for (int i = 0; i < CTX_COUNT; i++)
        contexts[i]->last_error[0] = '\0';
    clcnn_tensor *t = (clcnn_tensor *)&t;
    unsigned long before = enqueue_count(CTX_MAIN) + enqueue_count(CTX_OTHER);
    clcnn_status st = clcnn_tensor_create(c, dtype, null_dims ? NULL : dims, null_out ? NULL : &t);
    tally("tensor_create", OUTCOME_REFUSED);
    if (st == CLCNN_OK)
        die("tensor_create", "an invalid tensor was created", st, mask, c);
    if (!(BIT(st) & mask))
        die("tensor_create", "the status is not one the arguments call for", st, mask, c);
    if (!null_out && t != NULL)
        die("tensor_create", "*tensor is not NULL after a failure", st, mask, c);
    if (c != NULL && strstr(clcnn_context_last_error(c), "tensor_create") == NULL)
        die("tensor_create", "the message does not name the op", st, mask, c);
    if (enqueue_count(CTX_MAIN) + enqueue_count(CTX_OTHER) != before)
        die("tensor_create", "a kernel was enqueued", st, mask, c);
}

static size_t pick_transfer_bytes(reader *r, size_t right)
{
    switch (next_byte(r) % 8) {
    case 0: return 0;
    case 1: return right + 1;
    case 2: return right - 1; /* SIZE_MAX for an empty slot */
    case 3: return SIZE_MAX;
    case 4: return right * 2;
    default: return right;
    }
}

static void step_transfer(reader *r, int write)
{
    const char *op = write ? "tensor_write" : "tensor_read";
    meta *m = &slots[next_byte(r) % SLOTS];
    const int null_host = next_byte(r) % 8 == 0;
    size_t bytes = pick_transfer_bytes(r, m->bytes);
    uint8_t fill = next_byte(r);
    unsigned mask = 0;
    if (m->t == NULL || null_host || bytes != m->bytes)
        mask |= INVALID;
    /* Exactly the tensor's size: a library that moved `bytes` anyway
     * would overrun it (ASan). */
    unsigned char *host = malloc(m->bytes ? m->bytes : 1);
    if (host == NULL)
        abort();
    memset(host, fill, m->bytes ? m->bytes : 1);
    if (m->t)
        m->ctx->last_error[0] = '\0';
    clcnn_status st = write ? clcnn_tensor_write(m->t, null_host ? NULL : host, bytes)
                            : clcnn_tensor_read(m->t, null_host ? NULL : host, bytes);
    tally(op, mask ? OUTCOME_REFUSED : OUTCOME_RAN);
    if (mask == 0) {
        if (st != CLCNN_OK)
            die(op, "a valid transfer failed", st, mask, m->ctx);
        if (write)
            memcpy(m->shadow, host, m->bytes);
        else if (memcmp(host, m->shadow, m->bytes) != 0)
            die(op, "the tensor does not hold what was written to it (some call wrote to it)", st, mask, m->ctx);
    } else {
        if (st == CLCNN_OK || !(BIT(st) & mask))
            die(op, "an invalid transfer was not refused as it should be", st, mask, m->t ? m->ctx : NULL);
        if (m->t && strstr(clcnn_context_last_error(m->ctx), op) == NULL)
            die(op, "the message does not name the op", st, mask, m->ctx);
        if (m->t)
            check_contents(op, m, 0, "a refused write changed the tensor");
    }
    free(host);
}

/* Pieces of tuning specs: every key's name, the column names, a CHOICE
 * name, numbers in and out of range, separators. */
static const char *const spec_tokens[] = {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) #name,
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
        "table",
    "cpu",
    "gpu",
    "auto",
    "=",
    "=",
    ",",
    ",",
    "0",
    "1",
    "2",
    "4",
    "7",
    "16",
    "-1",
    "99999999999",
    "x",
    "",
};

/* clcnn_context_set_tuning with a spec of tokens: CLCNN_OK, or
 * CLCNN_ERROR_INVALID_ARGUMENT with the config as it was; a config the
 * context gives is taken back as it is. */
static void step_tuning(reader *r, clcnn_context *c)
{
    char spec[256] = "", before[CLCNN_CONFIG_CAPACITY];
    const int n = next_byte(r) % 12;
    for (int i = 0; i < n; i++) {
        const size_t used = strlen(spec);
        snprintf(spec + used, sizeof spec - used, "%s",
                 spec_tokens[next_byte(r) % (sizeof spec_tokens / sizeof spec_tokens[0])]);
    }
    snprintf(before, sizeof before, "%s", clcnn_context_config(c));
    clcnn_status st = clcnn_context_set_tuning(c, spec);
    if (!usable(c) || (st != CLCNN_OK && st != CLCNN_ERROR_INVALID_ARGUMENT))
        return;
    if (st != CLCNN_OK && strcmp(before, clcnn_context_config(c)) != 0)
        die("context_set_tuning", "a refused spec changed the config", st, INVALID, c);
    snprintf(before, sizeof before, "%s", clcnn_context_config(c));
    if ((st = clcnn_context_set_tuning(c, before)) != CLCNN_OK || strcmp(before, clcnn_context_config(c)) != 0)
        die("context_set_tuning", "the context's own config was not taken back as it is", st, 0, c);
}

static void step_misc(reader *r)
{
    clcnn_context *c = next_context(r);
    clcnn_status st = clcnn_context_finish(c);
    if ((st == CLCNN_OK) != usable(c) || (st != CLCNN_OK && st != CLCNN_ERROR_INVALID_ARGUMENT))
        die("context_finish", "wrong status", st, usable(c) ? 0 : INVALID, c);
    size_t dims[4];
    clcnn_tensor_dims(NULL, dims);
    clcnn_tensor_dims(slots[0].t, NULL);
    if (dims[0] || dims[1] || dims[2] || dims[3])
        die("tensor_dims", "dims of NULL are not 0", CLCNN_OK, 0, NULL);
    int any = (int)(int8_t)next_byte(r);
    if (clcnn_status_string((clcnn_status)any) == NULL || clcnn_context_last_error(c) == NULL ||
        clcnn_context_device_name(c) == NULL || clcnn_context_config(c) == NULL)
        die("accessors", "a NULL string", CLCNN_OK, 0, c);
    (void)clcnn_context_supports_dtype(c, (clcnn_dtype)any);
    (void)clcnn_context_workspace_bytes(c);
    if (clcnn_context_tuning_notes(c) == NULL)
        die("accessors", "a NULL string", CLCNN_OK, 0, c);
    if (any & 1)
        step_tuning(r, c);
}

static void step_destroy(reader *r)
{
    release(&slots[next_byte(r) % SLOTS]);
}

/* ---- op calls ---- */

static int is16(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT16 || dtype == CLCNN_BFLOAT16;
}

/* The ops that take float16 and bfloat16 so far (clcnn.h, clcnn_dtype); the
 * others refuse a 16-bit first tensor with CLCNN_ERROR_UNSUPPORTED. */
static int takes16(const char *op)
{
    static const char *const ops[] = {"zero_pad",
                                      "conv_forward",
                                      "conv_forward_ex",
                                      "conv_backward",
                                      "conv_backward_ex",
                                      "relu_forward",
                                      "relu_backward",
                                      "softmax_cross_entropy_forward",
                                      "softmax_cross_entropy_backward",
                                      "sgd_update",
                                      "tensor_convert"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i]) == 0)
            return 1;
    return 0;
}

typedef struct call {
    const char *op;
    clcnn_context *ctx;  /* as passed */
    clcnn_context *home; /* where new tensors of the call go */
    clcnn_dtype dtype;   /* the first tensor's, which the library compares the others with */
    unsigned mask;
    meta *args[MAX_CALL_TENSORS];
    int is_output[MAX_CALL_TENSORS];
    int n_args;
    meta temps[MAX_CALL_TENSORS];
    int n_temps;
    double work; /* multiply-adds (or elements) a valid call does */
} call;

static void call_begin(call *c, const char *op, reader *r)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    c->ctx = next_context(r);
    c->home = usable(c->ctx) ? c->ctx : contexts[CTX_MAIN];
    c->dtype = CLCNN_FLOAT32;
    if (!usable(c->ctx))
        c->mask |= INVALID;
}

/* One tensor argument: a slot, a new tensor of the dims the call wants
 * (`want`, or fuzzed dims when NULL), possibly one dim, dtype or context
 * off, NULL, or the same tensor as an earlier argument (aliasing). */
static meta *pick(call *c, reader *r, const size_t *want, int output)
{
    uint8_t b = next_byte(r);
    meta *m = NULL;
    const int kind = b % 16;
    if (kind < 8) {
        m = slots[kind].t ? &slots[kind] : NULL;
    } else if (kind < 13 && c->n_temps < MAX_CALL_TENSORS) {
        size_t dims[4] = {1, 1, 1, 1};
        if (want)
            memcpy(dims, want, sizeof dims);
        else
            for (int d = 0; d < 4; d++)
                dims[d] = 1 + next_byte(r) % 5;
        clcnn_dtype dtype = c->n_args == 0 ? (clcnn_dtype)(next_byte(r) % 4) : c->dtype;
        clcnn_context *home = c->home;
        switch (kind - 8) {
        case 1: dims[(b >> 4) & 3] += 1; break;
        case 2: dtype = dtype == CLCNN_FLOAT32 ? CLCNN_FLOAT64 : CLCNN_FLOAT32; break;
        case 4: dtype = is16(dtype) && (b & 0x10) ? CLCNN_FLOAT32 : dtype; break; /* softmax's float32 labels */
        case 3: home = home == contexts[CTX_MAIN] ? contexts[CTX_OTHER] : contexts[CTX_MAIN]; break;
        default: break;
        }
        if (dtype == CLCNN_FLOAT64 && !has_fp64)
            dtype = CLCNN_FLOAT32;
        if (creatable(dtype, dims)) {
            m = &c->temps[c->n_temps++];
            create_valid(m, home, dtype, dims);
        }
    } else if (kind == 14 && c->n_args > 0) {
        m = c->args[c->n_args - 1];
    } else if (kind == 15 && c->n_args > 0) {
        m = c->args[0];
    }
    if (c->n_args == 0 && m != NULL)
        c->dtype = m->dtype;
    c->is_output[c->n_args] = output;
    c->args[c->n_args++] = m;
    return m;
}

/* The argument rules every op shares. */
static void need_tensor(call *c, const meta *m, int required)
{
    if (m == NULL) {
        if (required)
            c->mask |= INVALID;
        return;
    }
    if (m->ctx != c->ctx || m->dtype != c->dtype)
        c->mask |= INVALID;
    if (m->count > INT_MAX)
        c->mask |= SHAPE;
}

/* Softmax's labels: the call's dtype, or float32 with 16-bit scores;
 * 16-bit labels must hold every class of scores_dims exactly. */
static void need_labels(call *c, const meta *m, const size_t *scores_dims)
{
    if (m != NULL && is16(c->dtype) && m->dtype == CLCNN_FLOAT32) {
        if (m->ctx != c->ctx)
            c->mask |= INVALID;
        if (m->count > INT_MAX)
            c->mask |= SHAPE;
        return;
    }
    need_tensor(c, m, 1);
    if (m != NULL && is16(m->dtype) && m->dtype == c->dtype && scores_dims &&
        scores_dims[3] - 1 > (m->dtype == CLCNN_BFLOAT16 ? 256u : 2048u))
        c->mask |= INVALID;
}

static void need_dims(call *c, const meta *m, const size_t *want)
{
    if (m != NULL && want != NULL && memcmp(m->dims, want, sizeof m->dims) != 0)
        c->mask |= SHAPE;
}

static void need_distinct(call *c, const meta *out, const meta *in)
{
    if (out != NULL && out == in)
        c->mask |= INVALID;
}

/* Runs the call and checks the result against the harness's verdict. */
static void call_finish(call *c, clcnn_status (*invoke)(void *), void *args)
{
    /* The op refuses the 16-bit tensor it checks first; one it reaches
     * later differs from the first's dtype (INVALID, predicted already). */
    for (int i = 0; i < c->n_args && !takes16(c->op); i++)
        if (c->args[i] != NULL && is16(c->args[i]->dtype))
            c->mask |= UNSUPPORTED;
    if (c->mask == 0 && c->work > FUZZ_MAX_WORK) {
        tally(c->op, OUTCOME_SKIPPED);
        goto done; /* valid, but too slow to be worth running */
    }
    tally(c->op, c->mask ? OUTCOME_REFUSED : OUTCOME_RAN);
    unsigned long before[2] = {enqueue_count(CTX_MAIN), enqueue_count(CTX_OTHER)};
    for (int i = 0; i < CTX_COUNT; i++)
        contexts[i]->last_error[0] = '\0';
    clcnn_status st = invoke(args);
    if (c->mask == 0) {
        if (st != CLCNN_OK)
            die(c->op, "a valid call failed", st, c->mask, c->ctx);
        /* Outputs take their new contents; inputs must keep theirs. */
        for (int i = 0; i < c->n_args; i++)
            if (c->args[i])
                check_contents(c->op, c->args[i], c->is_output[i], "a valid call changed one of its inputs");
    } else {
        if (st == CLCNN_OK)
            die(c->op, "an invalid call was accepted", st, c->mask, c->ctx);
        if (!(BIT(st) & c->mask))
            die(c->op, "the status is not one the arguments call for", st, c->mask, c->ctx);
        if (c->ctx != NULL) {
            const char *msg = clcnn_context_last_error(c->ctx);
            if (strncmp(msg, c->op, strlen(c->op)) != 0 || msg[strlen(c->op)] != ':')
                die(c->op, "the message does not start with the op's name", st, c->mask, c->ctx);
        }
        if (enqueue_count(CTX_MAIN) != before[0] || enqueue_count(CTX_OTHER) != before[1])
            die(c->op, "a refused call enqueued a kernel", st, c->mask, c->ctx);
        for (int i = 0; i < c->n_args; i++)
            if (c->args[i])
                check_contents(c->op, c->args[i], 0, "a refused call changed a tensor");
    }
done:
    for (int i = 0; i < c->n_temps; i++)
        release(&c->temps[i]);
}

#define T(m) ((m) ? (m)->t : NULL)

/* -- zero_pad -- */
typedef struct {
    call *c;
    meta *x, *x_pad;
    int pad;
} zero_pad_args;
static clcnn_status invoke_zero_pad(void *p)
{
    zero_pad_args *a = p;
    return clcnn_zero_pad(a->c->ctx, T(a->x), a->pad, T(a->x_pad));
}
static void step_zero_pad(reader *r)
{
    call c;
    call_begin(&c, "zero_pad", r);
    zero_pad_args a = {&c, NULL, NULL, 0};
    a.x = pick(&c, r, NULL, 0);
    a.pad = next_int(r);
    size_t want[4], *w = NULL;
    need_tensor(&c, a.x, 1);
    if (a.pad < 0)
        c.mask |= INVALID;
    else if (a.x) {
        want[0] = a.x->dims[0];
        want[1] = a.x->dims[1] + 2 * (size_t)a.pad;
        want[2] = a.x->dims[2] + 2 * (size_t)a.pad;
        want[3] = a.x->dims[3];
        w = want;
    }
    a.x_pad = pick(&c, r, w, 1);
    need_tensor(&c, a.x_pad, 1);
    need_dims(&c, a.x_pad, w);
    need_distinct(&c, a.x_pad, a.x);
    c.work = a.x_pad ? (double)a.x_pad->count : 0;
    call_finish(&c, invoke_zero_pad, &a);
}

/* -- convolution -- */

/* The harness's conv rules over the 0.2 params (the walkthrough's ops are
 * the special case clcnn_conv_params_default(stride, pad)); sets z (and
 * returns 1) when the output shape is defined. Every field below its least
 * value, and groups that do not divide both channel counts, are invalid;
 * w's channels disagreeing with the groups is a shape error. The padded
 * extent is limited to 2^30 - 1 and the output to 2^31 - 1 elements
 * (32-bit indexing in the kernels). */
static int conv_rules(call *c, const meta *a, const meta *w, const clcnn_conv_params *p, size_t z[4])
{
    need_tensor(c, a, 1);
    need_tensor(c, w, 1);
    if (p == NULL) {
        c->mask |= INVALID;
        return 0;
    }
    if (p->stride_h < 1 || p->stride_w < 1 || p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 ||
        p->pad_right < 0 || p->dilation_h < 1 || p->dilation_w < 1 || p->groups < 1) {
        c->mask |= INVALID;
        return 0;
    }
    if (a == NULL || w == NULL)
        return 0;
    const size_t groups = (size_t)p->groups;
    if (a->dims[3] % groups != 0 || w->dims[3] % groups != 0) {
        c->mask |= INVALID;
        return 0;
    }
    if (w->dims[2] * groups != a->dims[3])
        c->mask |= SHAPE;
    const unsigned __int128 ph = (unsigned __int128)a->dims[1] + (unsigned)p->pad_top + (unsigned)p->pad_bottom;
    const unsigned __int128 pw = (unsigned __int128)a->dims[2] + (unsigned)p->pad_left + (unsigned)p->pad_right;
    if (ph > INT_MAX / 2 || pw > INT_MAX / 2) {
        c->mask |= SHAPE;
        return 0;
    }
    const unsigned __int128 eh = (unsigned __int128)(unsigned)p->dilation_h * (w->dims[0] - 1) + 1;
    const unsigned __int128 ew = (unsigned __int128)(unsigned)p->dilation_w * (w->dims[1] - 1) + 1;
    if (eh > ph || ew > pw) {
        c->mask |= SHAPE;
        return 0;
    }
    z[0] = a->dims[0];
    z[1] = (size_t)((ph - eh) / (unsigned)p->stride_h + 1);
    z[2] = (size_t)((pw - ew) / (unsigned)p->stride_w + 1);
    z[3] = w->dims[3];
    unsigned __int128 n = (unsigned __int128)z[0] * z[1] * z[2];
    if (n * z[3] > INT_MAX) { /* z[0..2] < 2^31 each: no overflow in 128 bits */
        c->mask |= SHAPE;
        return 0;
    }
    c->work = (double)n * (double)z[3] * (double)w->dims[0] * (double)w->dims[1] * (double)w->dims[2];
    return 1;
}

/* One params field: mostly a small value at least `least` (the kind real
 * layers have, so that calls often pass validation and run), sometimes a
 * fuzzed int (below the least, huge, a boundary). */
static int next_field(reader *r, int least, int spread)
{
    uint8_t b = next_byte(r);
    return b < 200 ? least + b % spread : next_int(r);
}

/* The stride and pad fields both _ex params have, in this order: strides
 * 1 to 3 mostly, pads 0 to pad_spread - 1 mostly. */
static void next_stride_pads(reader *r, int pad_spread, int *stride_h, int *stride_w, int *pad_top, int *pad_bottom,
                             int *pad_left, int *pad_right)
{
    *stride_h = next_field(r, 1, 3);
    *stride_w = next_field(r, 1, 3);
    *pad_top = next_field(r, 0, pad_spread);
    *pad_bottom = next_field(r, 0, pad_spread);
    *pad_left = next_field(r, 0, pad_spread);
    *pad_right = next_field(r, 0, pad_spread);
}

/* Params for an _ex call, sometimes NULL; groups mostly 1, the input's
 * channel count (depthwise) or a small divisor-looking value. */
static const clcnn_conv_params *next_conv_params(reader *r, const meta *a, clcnn_conv_params *p)
{
    if (next_byte(r) == 255)
        return NULL;
    next_stride_pads(r, 4, &p->stride_h, &p->stride_w, &p->pad_top, &p->pad_bottom, &p->pad_left, &p->pad_right);
    p->dilation_h = next_field(r, 1, 3);
    p->dilation_w = next_field(r, 1, 3);
    uint8_t g = next_byte(r);
    p->groups = g < 128                                 ? 1
                : g < 192 && a && a->dims[3] <= INT_MAX ? (int)a->dims[3]
                : g < 240                               ? 1 + g % 4
                                                        : next_int(r);
    return p;
}

/* The walkthrough's ops (ex 0: stride and pad) or the _ex ops (params). */
typedef struct {
    call *c;
    meta *a, *w, *b, *z;
    int ex, stride, pad;
    const clcnn_conv_params *params;
    int act;
} conv_forward_args;
static clcnn_status invoke_conv_forward(void *p)
{
    conv_forward_args *a = p;
    if (a->ex)
        return clcnn_conv_forward_ex(a->c->ctx, T(a->a), T(a->w), T(a->b), a->params, (clcnn_activation)a->act,
                                     T(a->z));
    return clcnn_conv_forward(a->c->ctx, T(a->a), T(a->w), T(a->b), a->stride, a->pad, T(a->z));
}

/* stride and pad, or params for an _ex call; returns the params to judge by. */
static const clcnn_conv_params *conv_call_params(reader *r, const meta *a_prev, int ex, int *stride, int *pad,
                                                 clcnn_conv_params *storage)
{
    if (ex)
        return next_conv_params(r, a_prev, storage);
    *stride = next_int(r);
    *pad = next_int(r);
    *storage = clcnn_conv_params_default(*stride, *pad);
    return storage;
}

static void conv_forward_call(reader *r, int ex)
{
    call c;
    call_begin(&c, ex ? "conv_forward_ex" : "conv_forward", r);
    conv_forward_args a = {&c, NULL, NULL, NULL, NULL, ex, 0, 0, NULL, 0};
    a.a = pick(&c, r, NULL, 0);
    a.w = pick(&c, r, NULL, 0);
    clcnn_conv_params params;
    a.params = conv_call_params(r, a.a, ex, &a.stride, &a.pad, &params);
    if (ex) {
        uint8_t act = next_byte(r);
        a.act = act < 250 ? act % 2 : (int)act - 248;
        if (a.act != CLCNN_ACTIVATION_NONE && a.act != CLCNN_ACTIVATION_RELU)
            c.mask |= INVALID;
    }
    size_t z[4], b[4] = {1, 1, 1, a.w ? a.w->dims[3] : 1};
    const int have_z = conv_rules(&c, a.a, a.w, a.params, z);
    a.b = pick(&c, r, a.w ? b : NULL, 0);
    a.z = pick(&c, r, have_z ? z : NULL, 1);
    need_tensor(&c, a.b, !ex); /* the _ex forward takes no bias */
    need_dims(&c, a.b, a.w ? b : NULL);
    need_tensor(&c, a.z, 1);
    need_dims(&c, a.z, have_z ? z : NULL);
    need_distinct(&c, a.z, a.a);
    need_distinct(&c, a.z, a.w);
    need_distinct(&c, a.z, a.b);
    call_finish(&c, invoke_conv_forward, &a);
}

typedef struct {
    call *c;
    meta *dz, *a, *w, *da, *dw, *db;
    int ex, stride, pad;
    const clcnn_conv_params *params;
} conv_backward_args;
static clcnn_status invoke_conv_backward(void *p)
{
    conv_backward_args *a = p;
    if (a->ex)
        return clcnn_conv_backward_ex(a->c->ctx, T(a->dz), T(a->a), T(a->w), a->params, T(a->da), T(a->dw), T(a->db));
    return clcnn_conv_backward(a->c->ctx, T(a->dz), T(a->a), T(a->w), a->stride, a->pad, T(a->da), T(a->dw), T(a->db));
}
static void conv_backward_call(reader *r, int ex)
{
    call c;
    call_begin(&c, ex ? "conv_backward_ex" : "conv_backward", r);
    conv_backward_args a = {&c, NULL, NULL, NULL, NULL, NULL, NULL, ex, 0, 0, NULL};
    /* a_prev first: its dtype is the one the library compares with. */
    a.a = pick(&c, r, NULL, 0);
    a.w = pick(&c, r, NULL, 0);
    clcnn_conv_params params;
    a.params = conv_call_params(r, a.a, ex, &a.stride, &a.pad, &params);
    size_t z[4], b[4] = {1, 1, 1, a.w ? a.w->dims[3] : 1};
    const int have_z = conv_rules(&c, a.a, a.w, a.params, z);
    c.work *= 3;
    a.dz = pick(&c, r, have_z ? z : NULL, 0);
    need_tensor(&c, a.dz, 1);
    need_dims(&c, a.dz, have_z ? z : NULL);
    const uint8_t which = next_byte(r);
    a.da = which & 1 ? pick(&c, r, a.a ? a.a->dims : NULL, 1) : NULL;
    a.dw = which & 2 ? pick(&c, r, a.w ? a.w->dims : NULL, 1) : NULL;
    a.db = which & 4 ? pick(&c, r, a.w ? b : NULL, 1) : NULL;
    if (!a.da && !a.dw && !a.db)
        c.mask |= INVALID;
    meta *outs[3] = {a.da, a.dw, a.db};
    const size_t *out_dims[3] = {a.a ? a.a->dims : NULL, a.w ? a.w->dims : NULL, a.w ? b : NULL};
    for (int o = 0; o < 3; o++) {
        need_tensor(&c, outs[o], 0);
        need_dims(&c, outs[o], out_dims[o]);
        need_distinct(&c, outs[o], a.dz);
        need_distinct(&c, outs[o], a.a);
        need_distinct(&c, outs[o], a.w);
        for (int q = 0; q < o; q++)
            need_distinct(&c, outs[o], outs[q]);
    }
    call_finish(&c, invoke_conv_backward, &a);
}

/* -- pooling -- */

/* The harness's pooling rules over the 0.2 params (the walkthrough's ops
 * are clcnn_pool_params_default(f, stride)): a field below its least value,
 * a pad as large as its window or count_include_pad not 0 or 1 is invalid;
 * a window larger than the padded input, or with over 2^31 - 1 positions,
 * is a shape error. Sets out (and returns 1) when the output is defined. */
static int pool_rules(call *c, const meta *a, const clcnn_pool_params *p, int mode, size_t out[4])
{
    need_tensor(c, a, 1);
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVERAGE)
        c->mask |= INVALID;
    if (p == NULL) {
        c->mask |= INVALID;
        return 0;
    }
    if (p->f_h < 1 || p->f_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->pad_top < 0 || p->pad_bottom < 0 ||
        p->pad_left < 0 || p->pad_right < 0 || p->pad_top >= p->f_h || p->pad_bottom >= p->f_h ||
        p->pad_left >= p->f_w || p->pad_right >= p->f_w || (p->count_include_pad != 0 && p->count_include_pad != 1)) {
        c->mask |= INVALID;
        return 0;
    }
    if (a == NULL)
        return 0;
    const unsigned __int128 ph = (unsigned __int128)a->dims[1] + (unsigned)p->pad_top + (unsigned)p->pad_bottom;
    const unsigned __int128 pw = (unsigned __int128)a->dims[2] + (unsigned)p->pad_left + (unsigned)p->pad_right;
    if (ph > INT_MAX || pw > INT_MAX || (unsigned)p->f_h > ph || (unsigned)p->f_w > pw ||
        (long long)p->f_h * p->f_w > INT_MAX) {
        c->mask |= SHAPE;
        return 0;
    }
    out[0] = a->dims[0];
    out[1] = (size_t)((ph - (unsigned)p->f_h) / (unsigned)p->stride_h + 1);
    out[2] = (size_t)((pw - (unsigned)p->f_w) / (unsigned)p->stride_w + 1);
    out[3] = a->dims[3];
    c->work = (double)out[0] * out[1] * out[2] * out[3] * p->f_h * p->f_w;
    return 1;
}

/* f and stride, or params for an _ex call (fields mostly small, sometimes
 * NULL or fuzzed); returns the params to judge by. */
static const clcnn_pool_params *pool_call_params(reader *r, int ex, int *f, int *stride, clcnn_pool_params *p)
{
    if (!ex) {
        *f = next_int(r);
        *stride = next_int(r);
        *p = clcnn_pool_params_default(*f, *stride);
        return p;
    }
    if (next_byte(r) == 255)
        return NULL;
    p->f_h = next_field(r, 1, 4);
    p->f_w = next_field(r, 1, 4);
    next_stride_pads(r, 2, &p->stride_h, &p->stride_w, &p->pad_top, &p->pad_bottom, &p->pad_left, &p->pad_right);
    p->count_include_pad = next_field(r, 0, 2);
    return p;
}

/* The arguments of both pool ops: forward reads a and writes out, backward
 * reads da and a and writes da_prev. */
typedef struct {
    call *c;
    meta *a, *out, *da, *da_prev;
    int ex, f, stride, mode;
    const clcnn_pool_params *params;
    clcnn_pool_params params_storage;
    size_t out_dims[4];
    int have; /* whether out_dims follow from a, params and mode */
} pool_args;
static clcnn_status invoke_pool_forward(void *p)
{
    pool_args *a = p;
    if (a->ex)
        return clcnn_pool_forward_ex(a->c->ctx, T(a->a), a->params, (clcnn_pool_mode)a->mode, T(a->out));
    return clcnn_pool_forward(a->c->ctx, T(a->a), a->f, a->stride, (clcnn_pool_mode)a->mode, T(a->out));
}
static clcnn_status invoke_pool_backward(void *p)
{
    pool_args *a = p;
    if (a->ex)
        return clcnn_pool_backward_ex(a->c->ctx, T(a->da), T(a->a), a->params, (clcnn_pool_mode)a->mode, T(a->da_prev));
    return clcnn_pool_backward(a->c->ctx, T(a->da), T(a->a), a->f, a->stride, (clcnn_pool_mode)a->mode, T(a->da_prev));
}
static int next_mode(reader *r)
{
    uint8_t b = next_byte(r);
    return b < 200 ? b % 2 : b == 255 ? -1 : b - 200;
}
/* What both pool steps draw first: the input a, the params and the mode. */
static void pool_begin(call *c, reader *r, int ex, const char *name, pool_args *a)
{
    call_begin(c, name, r);
    *a = (pool_args){.c = c, .ex = ex};
    a->a = pick(c, r, NULL, 0);
    a->params = pool_call_params(r, ex, &a->f, &a->stride, &a->params_storage);
    a->mode = next_mode(r);
    a->have = pool_rules(c, a->a, a->params, a->mode, a->out_dims);
}
static void pool_forward_call(reader *r, int ex)
{
    call c;
    pool_args a;
    pool_begin(&c, r, ex, ex ? "pool_forward_ex" : "pool_forward", &a);
    a.out = pick(&c, r, a.have ? a.out_dims : NULL, 1);
    need_tensor(&c, a.out, 1);
    need_dims(&c, a.out, a.have ? a.out_dims : NULL);
    need_distinct(&c, a.out, a.a);
    call_finish(&c, invoke_pool_forward, &a);
}
static void pool_backward_call(reader *r, int ex)
{
    call c;
    pool_args a;
    pool_begin(&c, r, ex, ex ? "pool_backward_ex" : "pool_backward", &a);
    a.da = pick(&c, r, a.have ? a.out_dims : NULL, 0);
    a.da_prev = pick(&c, r, a.a ? a.a->dims : NULL, 1);
    need_tensor(&c, a.da, 1);
    need_dims(&c, a.da, a.have ? a.out_dims : NULL);
    need_tensor(&c, a.da_prev, 1);
    need_dims(&c, a.da_prev, a.a ? a.a->dims : NULL);
    need_distinct(&c, a.da_prev, a.a);
    need_distinct(&c, a.da_prev, a.da);
    call_finish(&c, invoke_pool_backward, &a);
}

/* -- training ops -- */

typedef struct {
    call *c;
    meta *x, *y, *z;
} three_args;
static clcnn_status invoke_relu_forward(void *p)
{
    three_args *a = p;
    return clcnn_relu_forward(a->c->ctx, T(a->x), T(a->y));
}
static void step_relu_forward(reader *r)
{
    call c;
    call_begin(&c, "relu_forward", r);
    three_args a = {&c, NULL, NULL, NULL};
    a.x = pick(&c, r, NULL, 0);
    a.y = pick(&c, r, a.x ? a.x->dims : NULL, 1);
    need_tensor(&c, a.x, 1);
    need_tensor(&c, a.y, 1);
    need_dims(&c, a.y, a.x ? a.x->dims : NULL);
    need_distinct(&c, a.y, a.x);
    call_finish(&c, invoke_relu_forward, &a);
}

static clcnn_status invoke_relu_backward(void *p)
{
    three_args *a = p;
    return clcnn_relu_backward(a->c->ctx, T(a->x), T(a->y), T(a->z));
}
static void step_relu_backward(reader *r)
{
    call c;
    call_begin(&c, "relu_backward", r);
    three_args a = {&c, NULL, NULL, NULL}; /* dy, x, dx */
    a.x = pick(&c, r, NULL, 0);
    const size_t *d = a.x ? a.x->dims : NULL;
    a.y = pick(&c, r, d, 0);
    a.z = pick(&c, r, d, 1);
    need_tensor(&c, a.x, 1);
    need_tensor(&c, a.y, 1);
    need_dims(&c, a.y, d);
    need_tensor(&c, a.z, 1);
    need_dims(&c, a.z, d);
    need_distinct(&c, a.z, a.x);
    need_distinct(&c, a.z, a.y);
    call_finish(&c, invoke_relu_backward, &a);
}

typedef struct {
    call *c;
    meta *logits, *labels, *probs, *loss, *mean;
} softmax_args;
static clcnn_status invoke_softmax_forward(void *p)
{
    softmax_args *a = p;
    return clcnn_softmax_cross_entropy_forward(a->c->ctx, T(a->logits), T(a->labels), T(a->probs), T(a->loss),
                                               T(a->mean));
}
static clcnn_status invoke_softmax_backward(void *p)
{
    softmax_args *a = p;
    return clcnn_softmax_cross_entropy_backward(a->c->ctx, T(a->logits), T(a->labels), T(a->probs));
}
static void softmax_call(reader *r, int forward)
{
    call c;
    call_begin(&c, forward ? "softmax_cross_entropy_forward" : "softmax_cross_entropy_backward", r);
    softmax_args a = {&c, NULL, NULL, NULL, NULL, NULL}; /* backward: probs, labels, dlogits */
    static const size_t scalar[4] = {1, 1, 1, 1};
    a.logits = pick(&c, r, NULL, 0);
    size_t rows[4], *row_dims = NULL;
    const size_t *d = a.logits ? a.logits->dims : NULL;
    if (d) {
        memcpy(rows, d, sizeof rows);
        rows[3] = 1;
        row_dims = rows;
    }
    need_tensor(&c, a.logits, 1);
    a.labels = pick(&c, r, row_dims, 0);
    need_labels(&c, a.labels, d);
    need_dims(&c, a.labels, row_dims);
    a.probs = pick(&c, r, d, 1);
    need_tensor(&c, a.probs, 1);
    need_dims(&c, a.probs, d);
    need_distinct(&c, a.probs, a.logits);
    need_distinct(&c, a.probs, a.labels);
    if (forward) {
        a.loss = pick(&c, r, row_dims, 1);
        a.mean = pick(&c, r, scalar, 1);
        need_tensor(&c, a.loss, 1);
        need_dims(&c, a.loss, row_dims);
        need_tensor(&c, a.mean, 1);
        need_dims(&c, a.mean, scalar);
        const meta *outs[3] = {a.probs, a.loss, a.mean};
        for (int o = 1; o < 3; o++) {
            need_distinct(&c, outs[o], a.logits);
            need_distinct(&c, outs[o], a.labels);
            for (int q = 0; q < o; q++)
                need_distinct(&c, outs[o], outs[q]);
        }
    }
    c.work = d ? (double)a.logits->count * 4 : 0;
    call_finish(&c, forward ? invoke_softmax_forward : invoke_softmax_backward, &a);
}

typedef struct {
    call *c;
    meta *param, *grad, *velocity;
    double lr, momentum, decay;
} sgd_args;
static clcnn_status invoke_sgd(void *p)
{
    sgd_args *a = p;
    return clcnn_sgd_update(a->c->ctx, T(a->param), T(a->grad), T(a->velocity), a->lr, a->momentum, a->decay);
}
static void step_sgd_update(reader *r)
{
    call c;
    call_begin(&c, "sgd_update", r);
    sgd_args a = {&c, NULL, NULL, NULL, 0, 0, 0};
    a.param = pick(&c, r, NULL, 1); /* updated in place */
    const size_t *d = a.param ? a.param->dims : NULL;
    a.grad = pick(&c, r, d, 0);
    a.velocity = next_byte(r) % 4 == 0 ? NULL : pick(&c, r, d, 1);
    a.lr = next_double(r);
    a.momentum = next_double(r);
    a.decay = next_double(r);
    need_tensor(&c, a.param, 1);
    need_tensor(&c, a.grad, 1);
    need_dims(&c, a.grad, d);
    need_distinct(&c, a.param, a.grad);
    if (!(isfinite(a.lr) && a.lr >= 0))
        c.mask |= INVALID;
    if (!(isfinite(a.momentum) && a.momentum >= 0 && a.momentum <= 1))
        c.mask |= INVALID;
    if (!(isfinite(a.decay) && a.decay >= 0))
        c.mask |= INVALID;
    if (a.velocity == NULL && a.momentum != 0)
        c.mask |= INVALID;
    need_tensor(&c, a.velocity, 0);
    need_dims(&c, a.velocity, d);
    need_distinct(&c, a.velocity, a.param);
    need_distinct(&c, a.velocity, a.grad);
    c.work = d ? (double)a.param->count : 0;
    call_finish(&c, invoke_sgd, &a);
}

/* -- output dims (clcnn_conv_output_dims, clcnn_pool_output_dims) --
 * The op's rules over dims alone: a harness meta with dims and no tensor
 * stands for each input, which must be dims a tensor could have; the dims
 * given back must be the rules' output. */

/* Dims for an output_dims call (sometimes NULL: invalid), as a meta of the
 * call's context; 0 when they are NULL. */
static int next_dims_meta(call *c, reader *r, meta *m)
{
    memset(m, 0, sizeof *m);
    if (next_byte(r) == 255) {
        c->mask |= INVALID;
        return 0;
    }
    for (int d = 0; d < 4; d++)
        m->dims[d] = next_dim(r);
    m->ctx = c->ctx;
    m->dtype = c->dtype;
    if (!sizes_of(CLCNN_FLOAT32, m->dims, &m->count, &m->bytes))
        c->mask |= SHAPE; /* what clcnn_tensor_create would refuse */
    return 1;
}

typedef struct {
    call *c;
    int conv, have;
    meta a, w;
    const meta *a_arg, *w_arg;
    const void *params;
    size_t want[4], got[4];
    size_t *out;
} output_dims_args;
static clcnn_status invoke_output_dims(void *p)
{
    output_dims_args *a = p;
    const size_t *ad = a->a_arg ? a->a.dims : NULL, *wd = a->w_arg ? a->w.dims : NULL;
    clcnn_status st = a->conv ? clcnn_conv_output_dims(a->c->ctx, ad, wd, a->params, a->out)
                              : clcnn_pool_output_dims(a->c->ctx, ad, a->params, a->out);
    if (st == CLCNN_OK && memcmp(a->got, a->want, sizeof a->want) != 0)
        die(a->c->op, "the output dims differ from the rules'", st, a->c->mask, a->c->ctx);
    return st;
}
static void output_dims_call(reader *r, int conv)
{
    call c;
    call_begin(&c, conv ? "conv_output_dims" : "pool_output_dims", r);
    output_dims_args a = {.c = &c, .conv = conv};
    a.a_arg = next_dims_meta(&c, r, &a.a) ? &a.a : NULL;
    if (conv)
        a.w_arg = next_dims_meta(&c, r, &a.w) ? &a.w : NULL;
    clcnn_conv_params conv_params;
    clcnn_pool_params pool_params;
    int unused_f, unused_stride;
    if (conv) {
        a.params = next_conv_params(r, a.a_arg, &conv_params);
        a.have = conv_rules(&c, a.a_arg, a.w_arg, a.params, a.want);
    } else {
        a.params = pool_call_params(r, 1, &unused_f, &unused_stride, &pool_params);
        a.have = pool_rules(&c, a.a_arg, a.params, CLCNN_POOL_MAX, a.want);
    }
    a.out = next_byte(r) == 255 ? NULL : a.got;
    if (a.out == NULL)
        c.mask |= INVALID;
    c.work = 0.0; /* nothing runs */
    call_finish(&c, invoke_output_dims, &a);
}

/* ---- the op steps: one per op of the op table (host/api/op_table.h) ---- */

static void step_conv_forward(reader *r)
{
    conv_forward_call(r, 0);
}
static void step_conv_forward_ex(reader *r)
{
    conv_forward_call(r, 1);
}
static void step_conv_backward(reader *r)
{
    conv_backward_call(r, 0);
}
static void step_conv_backward_ex(reader *r)
{
    conv_backward_call(r, 1);
}
static void step_pool_forward(reader *r)
{
    pool_forward_call(r, 0);
}
static void step_pool_forward_ex(reader *r)
{
    pool_forward_call(r, 1);
}
static void step_pool_backward(reader *r)
{
    pool_backward_call(r, 0);
}
static void step_pool_backward_ex(reader *r)
{
    pool_backward_call(r, 1);
}
static void step_softmax_cross_entropy_forward(reader *r)
{
    softmax_call(r, 1);
}
static void step_softmax_cross_entropy_backward(reader *r)
{
    softmax_call(r, 0);
}

static clcnn_status invoke_tensor_convert(void *p)
{
    three_args *a = p;
    return clcnn_tensor_convert(a->c->ctx, T(a->x), T(a->y));
}
/* dst may have any dtype: only its context is the call's. */
static void step_tensor_convert(reader *r)
{
    call c;
    call_begin(&c, "tensor_convert", r);
    three_args a = {&c, NULL, NULL, NULL}; /* src, dst */
    a.x = pick(&c, r, NULL, 0);
    a.y = pick(&c, r, a.x ? a.x->dims : NULL, 1);
    need_tensor(&c, a.x, 1);
    if (a.y == NULL || a.y->ctx != c.ctx)
        c.mask |= INVALID;
    else if (a.y->count > INT_MAX)
        c.mask |= SHAPE;
    need_dims(&c, a.y, a.x ? a.x->dims : NULL);
    need_distinct(&c, a.y, a.x);
    call_finish(&c, invoke_tensor_convert, &a);
}

static void step_conv_output_dims(reader *r)
{
    output_dims_call(r, 1);
}
static void step_pool_output_dims(reader *r)
{
    output_dims_call(r, 0);
}

/* The ops, then the shape functions. */
#define OP_STEP(name, operands) step_##name,
static void (*const op_steps[])(reader *r) = {CLCNN_OPS(OP_STEP) step_conv_output_dims, step_pool_output_dims};
#undef OP_STEP
#define OP_STEPS ((int)(sizeof op_steps / sizeof op_steps[0]))

/* ---- libFuzzer entry points ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (int i = 0; i < CTX_COUNT; i++) {
        clcnn_status st = clcnn_context_create(i == CTX_FAILED ? "no-such-device-for-fuzzing" : NULL, &contexts[i]);
        if ((st == CLCNN_OK) != (i != CTX_FAILED) || contexts[i] == NULL) {
            fprintf(stderr, "fuzz_validation: context %d: %s (%s)\n", i, clcnn_status_string(st),
                    clcnn_context_last_error(contexts[i]));
            exit(1);
        }
    }
    /* The device's limits, asked of OpenCL directly. */
    const cl_device_id device = contexts[CTX_MAIN]->device;
    char extensions[8192] = "";
    if (clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL) != CL_SUCCESS ||
        clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, sizeof extensions - 1, extensions, NULL) != CL_SUCCESS) {
        fprintf(stderr, "fuzz_validation: clGetDeviceInfo failed\n");
        exit(1);
    }
    has_fp64 = strstr(extensions, "cl_khr_fp64") != NULL;
    const char *want_stats = getenv("CLCNN_FUZZ_STATS");
    if (want_stats && strcmp(want_stats, "1") == 0)
        atexit(print_stats);
    fprintf(stderr, "fuzz_validation: %s, max alloc %llu bytes, fp64 %d\n",
            clcnn_context_device_name(contexts[CTX_MAIN]), (unsigned long long)max_alloc, has_fp64);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    for (int step = 0; step < MAX_STEPS && r.n > 0; step++) {
        /* Steps 0 to 6 make, move and drop tensors; the rest call an op. */
        int pick = next_byte(&r) % (7 + OP_STEPS);
        switch (pick) {
        case 0:
        case 1:
        case 2: step_create(&r); break;
        case 3: step_destroy(&r); break;
        case 4: step_transfer(&r, 1); break;
        case 5: step_transfer(&r, 0); break;
        case 6: step_misc(&r); break;
        default: op_steps[pick - 7](&r); break;
        }
    }
    /* Every slot must still hold what the harness thinks, then go. */
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].t)
            check_contents("end of input", &slots[i], 0, "a tensor changed behind the harness's back");
        release(&slots[i]);
    }
    return 0;
}
