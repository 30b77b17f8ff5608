/* The element-wise ops as plain C loops over the same buffers as `clcnn
 * bench`'s rows (OpenMP over every core, built -O2): the yardstick for how
 * near clcnn's kernels come to what this machine's memory moves. A tool
 * next to tools/torch_bench.py (its --c-loop), not part of the library.
 *
 *   c_loop_bench relu_forward|relu_backward|sgd_update m h w c [--repeat N]
 *   c_loop_bench zero_pad m h w c pad [--repeat N]
 *
 * Prints the median ms of N runs (default 10) after a warm-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A buffer of n floats, first touched by the threads that will use it. */
static float *buffer(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof *p);
    if (p == NULL) {
        fprintf(stderr, "c_loop_bench: out of memory for %zu floats\n", n);
        exit(1);
    }
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((i * 2654435761u + seed) % 2001u) / 1000.0f - 1.0f;
    return p;
}

typedef struct job {
    const char *op;
    size_t m, h, w, c;
    int pad;
    float *a, *b, *out;
} job;

static void run(const job *j)
{
    const size_t n = j->m * j->h * j->w * j->c;
    if (strcmp(j->op, "relu_forward") == 0) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            j->out[i] = j->a[i] < 0.0f ? 0.0f : j->a[i];
    } else if (strcmp(j->op, "relu_backward") == 0) {
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++)
            j->out[i] = j->b[i] > 0.0f ? j->a[i] : 0.0f;
    } else if (strcmp(j->op, "sgd_update") == 0) {
        /* param (out), grad (a), velocity (b); momentum 0.9, lr 0.01 */
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float v = 0.9f * j->b[i] + j->a[i];
            j->b[i] = v;
            j->out[i] -= 0.01f * v;
        }
    } else { /* zero_pad: a row of the output per (image, h) */
        const size_t hp = j->h + 2 * (size_t)j->pad, row = (j->w + 2 * (size_t)j->pad) * j->c;
        const size_t lead = (size_t)j->pad * j->c, copied = j->w * j->c;
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < j->m * hp; r++) {
            float *o = j->out + r * row;
            const size_t h = r % hp;
            if (h < (size_t)j->pad || h >= j->h + (size_t)j->pad) {
                for (size_t k = 0; k < row; k++)
                    o[k] = 0.0f;
                continue;
            }
            const float *in = j->a + ((r / hp) * j->h + (h - (size_t)j->pad)) * copied;
            for (size_t k = 0; k < lead; k++)
                o[k] = 0.0f;
            for (size_t k = 0; k < copied; k++)
                o[lead + k] = in[k];
            for (size_t k = lead + copied; k < row; k++)
                o[k] = 0.0f;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: c_loop_bench relu_forward|relu_backward|sgd_update|zero_pad m h w c [pad] "
                        "[--repeat N]\n");
        return 2;
    }
    job j = {argv[1], strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10), strtoul(argv[4], NULL, 10),
             strtoul(argv[5], NULL, 10), 0, NULL, NULL, NULL};
    int repeat = 10, arg = 6;
    if (strcmp(j.op, "zero_pad") == 0 && argc > 6)
        j.pad = atoi(argv[arg++]);
    for (; arg + 1 < argc; arg += 2)
        if (strcmp(argv[arg], "--repeat") == 0)
            repeat = atoi(argv[arg + 1]);
    const char *ops[] = {"relu_forward", "relu_backward", "sgd_update", "zero_pad"};
    int known = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        known |= strcmp(j.op, ops[i]) == 0;
    if (!known || j.m == 0 || j.h == 0 || j.w == 0 || j.c == 0 || j.pad < 0 || repeat < 1) {
        fprintf(stderr, "c_loop_bench: bad arguments (op %s, dims %zux%zux%zux%zu, pad %d, repeat %d)\n", j.op, j.m,
                j.h, j.w, j.c, j.pad, repeat);
        return 2;
    }
    const size_t n = j.m * j.h * j.w * j.c;
    const size_t out_n = j.m * (j.h + 2 * (size_t)j.pad) * (j.w + 2 * (size_t)j.pad) * j.c;
    j.a = buffer(n, 1);
    j.b = buffer(n, 2);
    j.out = buffer(out_n, 3);
    run(&j);
    double *ms = malloc((size_t)repeat * sizeof *ms);
    for (int i = 0; i < repeat; i++) {
        const double start = now_ms();
        run(&j);
        ms[i] = now_ms() - start;
    }
    qsort(ms, (size_t)repeat, sizeof *ms, compare_double);
    printf("%.4f\n", repeat % 2 ? ms[repeat / 2] : 0.5 * (ms[repeat / 2 - 1] + ms[repeat / 2]));
    free(ms);
    free(j.a);
    free(j.b);
    free(j.out);
    return 0;
}
