/* `clcnn tune`'s decisions (tune_rule.h). Pure: no timing, no device. */
#include "tune_rule.h"

/* Sorts x[0 .. n) in place (n is small: insertion sort). */
static void sort_small(double x[], int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && x[j - 1] > x[j]; j--) {
            const double t = x[j];
            x[j] = x[j - 1];
            x[j - 1] = t;
        }
}

static double median_of_sorted(const double x[], int n)
{
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Whether b is faster than a beyond floor and the spread (tune_judge). */
static int beats(const double a[], const double b[], int n, double floor)
{
    double ratio[TUNE_MAX_SAMPLES], sa[TUNE_MAX_SAMPLES], sb[TUNE_MAX_SAMPLES];
    for (int i = 0; i < n; i++) {
        if (!(a[i] > 0.0) || !(b[i] > 0.0))
            return 0;
        ratio[i] = b[i] / a[i];
        sa[i] = a[i];
        sb[i] = b[i];
    }
    sort_small(ratio, n);
    sort_small(sa, n);
    sort_small(sb, n);
    /* One pair that another process slowed, or that a lull sped, moves
     * neither the median nor the spread. */
    const double spread = ratio[n - 2] - ratio[1];
    const double margin = spread > floor ? spread : floor;
    return median_of_sorted(ratio, n) <= 1.0 - margin &&
           median_of_sorted(sb, n) <= (1.0 - floor) * median_of_sorted(sa, n);
}

tune_verdict tune_judge(const double a[], const double b[], int n, double floor)
{
    if (n < 3 || n > TUNE_MAX_SAMPLES)
        return TUNE_TIE;
    if (beats(a, b, n, floor))
        return TUNE_WIN;
    return beats(b, a, n, floor) ? TUNE_LOSS : TUNE_TIE;
}

static int lost(const tune_loss losses[], int loss_count, int key, int value)
{
    for (int i = 0; i < loss_count; i++)
        if (losses[i].key == key && losses[i].value == value)
            return 1;
    return 0;
}

/* The class value of key k: the majority's tuned value, or base[k]. */
static int class_value(int members, int key_count, const int values[], const unsigned char searched[],
                       const tune_loss losses[], int loss_count, int k, int base)
{
    int voters = 0, best = base, best_votes = 0;
    for (int m = 0; m < members; m++) {
        if (!searched[m * key_count + k])
            continue;
        voters++;
        const int v = values[m * key_count + k];
        int votes = 0;
        for (int o = 0; o < members; o++)
            votes += searched[o * key_count + k] && values[o * key_count + k] == v;
        if (v != base && votes > best_votes)
            best = v, best_votes = votes;
    }
    if (best_votes < 2 || 2 * best_votes <= voters || lost(losses, loss_count, k, best))
        return base;
    return best;
}

int tune_class_values(int members, int key_count, const int values[], const unsigned char searched[],
                      const tune_loss losses[], int loss_count, const int base[], int out[])
{
    int differ = 0;
    for (int k = 0; k < key_count; k++) {
        out[k] = class_value(members, key_count, values, searched, losses, loss_count, k, base[k]);
        differ += out[k] != base[k];
    }
    return differ;
}
