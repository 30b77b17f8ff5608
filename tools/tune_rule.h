/* `clcnn tune`'s decisions, apart from any timing or device so that a
 * host-only test (tests/test_tune_rule.c) reaches them with synthetic
 * samples: when a candidate beats the incumbent, and which values of the
 * layers tuned in one class become the class's row (docs/tuning.md,
 * "Tuning a device"). */
#ifndef CLCNN_TUNE_RULE_H
#define CLCNN_TUNE_RULE_H

/* The least gain that counts as a win, whatever the spread: below it, a
 * rerun on the same machine would not find the same winner. */
#define TUNE_FLOOR 0.06
/* The most samples a side of a comparison takes. */
#define TUNE_MAX_SAMPLES 16

typedef enum tune_verdict {
    TUNE_TIE, /* neither is faster beyond the spread: the incumbent stays */
    TUNE_WIN, /* b is faster than a */
    TUNE_LOSS /* a is faster than b */
} tune_verdict;

/* b against a from n paired samples (3 <= n <= TUNE_MAX_SAMPLES; a[i] and
 * b[i] timed next to each other, so that a load on the machine slows both).
 * b wins when the median of the ratios b[i]/a[i] is below 1 by more than
 * both floor and the spread of those ratios (their range less the largest
 * and the smallest), and b's median sample is below a's by floor; a wins
 * likewise the other way round; else a tie. A sample that is not a
 * positive number makes a tie. */
tune_verdict tune_judge(const double a[], const double b[], int n, double floor);

/* A value that lost clearly (or failed its check) on a member's search. */
typedef struct tune_loss {
    int member, key, value;
} tune_loss;

/* The class row of `members` layers of one op, dtype and class, key by
 * key: values[m * key_count + k] is member m's tuned value of key k,
 * searched[m * key_count + k] whether m's search covered k (only those
 * members vote on k). Key k takes value v != base[k] when v is the tuned
 * value of a strict majority of the voters, of two at least, and v lost
 * clearly on none of the members (losses). out[] gets base[] with those
 * values; returns how many keys differ from base. */
int tune_class_values(int members, int key_count, const int values[], const unsigned char searched[],
                      const tune_loss losses[], int loss_count, const int base[], int out[]);

#endif
