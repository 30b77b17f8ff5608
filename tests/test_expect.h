/* The plain tests' checks (those that are no Check suite): EXPECT(cond,
 * printf-style message) and CHECK(cond) count a failure and say where and
 * why (CHECK: the condition's text), and the test goes on, so one run lists
 * every failure; main returns on `failures`. */
#ifndef CLCNN_TEST_EXPECT_H
#define CLCNN_TEST_EXPECT_H

#include <stdio.h>

static int failures;

#define EXPECT(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                            \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: %s: failed: %s\n", __FILE__, __LINE__, __func__, #cond);                           \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

#endif
