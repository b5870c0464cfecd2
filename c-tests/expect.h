/* Expectations that count failures instead of stopping at the first, for
 * the tests that check many of Linux's answers in a row. */
#ifndef SCTPSHIM_CTEST_EXPECT_H
#define SCTPSHIM_CTEST_EXPECT_H

#include "common.h"

static int failures;

/* `call` fails with errno `err`. */
#define EXPECT(call, err)                                                              \
    do {                                                                               \
        errno = 0;                                                                     \
        long r_ = (long)(call);                                                        \
        if (r_ != -1 || errno != (err)) {                                              \
            fprintf(stderr, "%s:%d: %s gave %ld errno %d (%s), want errno %d (%s)\n", \
                    __FILE__, __LINE__, #call, r_, errno, strerror(errno), (err),      \
                    strerror(err));                                                    \
            failures++;                                                                \
        }                                                                              \
    } while (0)

/* `call` succeeds (returns 0 or more). */
#define EXPECT_OK(call)                                                                  \
    do {                                                                                 \
        errno = 0;                                                                       \
        long r_ = (long)(call);                                                          \
        if (r_ < 0) {                                                                    \
            fprintf(stderr, "%s:%d: %s gave %ld errno %d (%s), want success\n", __FILE__, \
                    __LINE__, #call, r_, errno, strerror(errno));                        \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

/* `got` equals `want`. */
#define EXPECT_EQ(got, want)                                                              \
    do {                                                                                  \
        long g_ = (long)(got), w_ = (long)(want);                                         \
        if (g_ != w_) {                                                                   \
            fprintf(stderr, "%s:%d: %s is %ld, want %ld (errno %d %s)\n", __FILE__,       \
                    __LINE__, #got, g_, w_, errno, strerror(errno));                      \
            failures++;                                                                   \
        }                                                                                 \
    } while (0)

/* The test's exit status, with its verdict printed. */
static inline int finish(const char *name) {
    if (failures) {
        fprintf(stderr, "%s: %d wrong answers\n", name, failures);
        return 1;
    }
    printf("%s: ok\n", name);
    return 0;
}

#endif
