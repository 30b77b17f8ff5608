/* `clcnn tune`'s decisions (tools/tune_rule.c) on synthetic samples, no
 * device and no timing: when a candidate wins against the incumbent
 * (noise, outliers, clear, marginal and lost comparisons), and which
 * tuned values become a class row. The noise is a fixed pseudo-random
 * sequence per seed, so that every run checks the same samples. */
#include <stdio.h>
#include <string.h>

#include "tune_rule.h"
#include "test_expect.h"


#define N 7
#define SEEDS 500

/* A uniform number in [-1, 1) from *state (a 64-bit LCG's high bits). */
static double noise(unsigned long long *state)
{
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*state >> 11) / (double)(1ULL << 52) - 1.0;
}

/* a: samples of 1.0 ms, b: of `ratio` ms, each times 1 + `spread` * noise;
 * then the verdict of b against a. */
static tune_verdict judge_noisy(unsigned long long seed, double ratio, double spread)
{
    double a[N], b[N];
    unsigned long long state = seed * 2654435761ULL + 1;
    for (int i = 0; i < N; i++) {
        a[i] = 1.0 * (1.0 + spread * noise(&state));
        b[i] = ratio * (1.0 + spread * noise(&state));
    }
    return tune_judge(a, b, N, TUNE_FLOOR);
}

/* How many of SEEDS noisy comparisons give verdict. */
static int count_verdicts(double ratio, double spread, tune_verdict verdict)
{
    int count = 0;
    for (unsigned long long seed = 0; seed < SEEDS; seed++)
        count += judge_noisy(seed, ratio, spread) == verdict;
    return count;
}

static void test_noise_alone_never_wins(void)
{
    /* The same speed, 2% and 5% noise: no winner either way; at 10%, one
     * comparison in 100 at most (tune confirms a win in a second round). */
    CHECK(count_verdicts(1.0, 0.02, TUNE_TIE) == SEEDS);
    CHECK(count_verdicts(1.0, 0.05, TUNE_WIN) == 0);
    CHECK(count_verdicts(1.0, 0.05, TUNE_LOSS) == 0);
    CHECK(count_verdicts(1.0, 0.10, TUNE_WIN) <= SEEDS / 100);
}

static void test_clear_wins_and_losses(void)
{
    CHECK(count_verdicts(0.7, 0.02, TUNE_WIN) == SEEDS);
    CHECK(count_verdicts(0.8, 0.02, TUNE_WIN) == SEEDS);
    CHECK(count_verdicts(1.4, 0.02, TUNE_LOSS) == SEEDS);
    /* Under 5% noise a 30% gain still wins. */
    CHECK(count_verdicts(0.7, 0.05, TUNE_WIN) == SEEDS);
}

static void test_marginal_gains_do_not_win(void)
{
    /* Below the floor, however quiet the machine. */
    CHECK(count_verdicts(0.97, 0.0, TUNE_TIE) == SEEDS);
    CHECK(count_verdicts(0.95, 0.005, TUNE_WIN) == 0);
    /* Near the floor, within the noise's spread: rarely a win. */
    CHECK(count_verdicts(0.95, 0.02, TUNE_WIN) <= SEEDS / 10);
    CHECK(count_verdicts(0.97, 0.05, TUNE_WIN) <= SEEDS / 50);
    /* A gain above the floor wins on a quiet machine, less often on a
     * noisy one. */
    CHECK(count_verdicts(0.92, 0.002, TUNE_WIN) == SEEDS);
    CHECK(count_verdicts(0.92, 0.05, TUNE_WIN) < SEEDS * 3 / 4);
}

static void test_outliers(void)
{
    double a[N] = {1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00};
    double b[N] = {0.80, 0.81, 0.79, 0.80, 0.82, 0.78, 0.80};
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) == TUNE_WIN);
    /* One sample of b that another process slowed five times. */
    b[3] = 4.0;
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) == TUNE_WIN);
    /* Two such samples: the pairs no longer agree. */
    b[5] = 4.0;
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) != TUNE_WIN);

    /* The same speed, one incumbent sample slowed: no win for b. */
    double c[N] = {1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00};
    double d[N] = {1.00, 0.99, 1.01, 1.00, 0.98, 1.02, 1.00};
    CHECK(tune_judge(c, d, N, TUNE_FLOOR) == TUNE_TIE);
    c[2] = 5.0;
    CHECK(tune_judge(c, d, N, TUNE_FLOOR) == TUNE_TIE);
}

static void test_load_shared_by_pairs(void)
{
    /* The machine's load doubles halfway through; each pair sees the same
     * load, and b is 20% faster in each: a win, though b's slow samples
     * are slower than a's fast ones. */
    double a[N], b[N];
    for (int i = 0; i < N; i++) {
        const double load = i < N / 2 ? 1.0 : 2.0;
        a[i] = 1.0 * load;
        b[i] = 0.8 * load * (i % 2 ? 1.01 : 0.99);
    }
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) == TUNE_WIN);
    CHECK(tune_judge(b, a, N, TUNE_FLOOR) == TUNE_LOSS);
}

static void test_bad_samples(void)
{
    double a[N] = {1, 1, 1, 1, 1, 1, 1}, b[N] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) == TUNE_WIN);
    CHECK(tune_judge(a, b, 2, TUNE_FLOOR) == TUNE_TIE);
    CHECK(tune_judge(a, b, TUNE_MAX_SAMPLES + 1, TUNE_FLOOR) == TUNE_TIE);
    b[4] = 0.0 / 0.0;
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) == TUNE_TIE);
    b[4] = 0.5, a[0] = 0.0;
    CHECK(tune_judge(a, b, N, TUNE_FLOOR) == TUNE_TIE);
}

/* ---- class rows: 4 members, 3 keys ---- */

#define KEYS 3

static void test_class_agreement(void)
{
    const int base[KEYS] = {16, 0, 8};
    int values[4 * KEYS] = {8, 0, 8, /**/ 8, 1, 8, /**/ 8, 0, 4, /**/ 8, 1, 2};
    unsigned char searched[4 * KEYS];
    int out[KEYS];
    memset(searched, 1, sizeof searched);
    /* Key 0: all four agree on 8. Key 1: two of four on 1, no majority.
     * Key 2: 4 and 2 once each. */
    CHECK(tune_class_values(4, KEYS, values, searched, NULL, 0, base, out) == 1);
    CHECK(out[0] == 8 && out[1] == 0 && out[2] == 8);

    /* Three of four on 1 for key 1: a majority. */
    values[2 * KEYS + 1] = 1;
    CHECK(tune_class_values(4, KEYS, values, searched, NULL, 0, base, out) == 2);
    CHECK(out[0] == 8 && out[1] == 1 && out[2] == 8);

    /* ... unless 1 lost clearly on the fourth member's search. */
    const tune_loss loss = {0, 1, 1};
    CHECK(tune_class_values(4, KEYS, values, searched, &loss, 1, base, out) == 1);
    CHECK(out[1] == 0);
    /* A loss of another value of that key does not count. */
    const tune_loss other = {0, 1, 2};
    CHECK(tune_class_values(4, KEYS, values, searched, &other, 1, base, out) == 2);
}

static void test_class_voters(void)
{
    const int base[KEYS] = {16, 0, 8};
    const int values[3 * KEYS] = {8, 0, 8, /**/ 8, 0, 8, /**/ 16, 0, 8};
    unsigned char searched[3 * KEYS];
    int out[KEYS];
    memset(searched, 1, sizeof searched);
    /* Two of three on 8: a majority. */
    CHECK(tune_class_values(3, KEYS, values, searched, NULL, 0, base, out) == 1 && out[0] == 8);
    /* One member alone is no class. */
    CHECK(tune_class_values(1, KEYS, values, searched, NULL, 0, base, out) == 0 && out[0] == 16);
    /* Two of two when the third did not search key 0 (its budget ran out). */
    searched[2 * KEYS + 0] = 0;
    CHECK(tune_class_values(3, KEYS, values, searched, NULL, 0, base, out) == 1 && out[0] == 8);
    /* One of two voters is a tie, not a majority. */
    searched[1 * KEYS + 0] = 0, searched[2 * KEYS + 0] = 1;
    CHECK(tune_class_values(3, KEYS, values, searched, NULL, 0, base, out) == 0 && out[0] == 16);
}

int main(void)
{
    test_noise_alone_never_wins();
    test_clear_wins_and_losses();
    test_marginal_gains_do_not_win();
    test_outliers();
    test_load_shared_by_pairs();
    test_bad_samples();
    test_class_agreement();
    test_class_voters();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
