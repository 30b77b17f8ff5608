/* Watched tensors, the fixture of the error tests; see kit.h. */
#include <stdlib.h>
#include <string.h>

#include "kit.h"

/* Exact in float and far from anything an op computes here. */
static double sentinel(size_t i)
{
    return 1000.0 + 0.25 * (double)(i % 4096);
}

clcnn_status kit_watch_new(kit_watch *watch, clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4],
                           const double *values, clcnn_tensor **tensor)
{
    *tensor = NULL;
    if (watch->count == KIT_MAX_WATCHED)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    double *pattern = NULL;
    if (!values) {
        size_t n = kit_elements(dims);
        pattern = malloc((n ? n : 1) * sizeof *pattern);
        if (!pattern)
            return CLCNN_ERROR_OUT_OF_MEMORY;
        for (size_t i = 0; i < n; i++)
            pattern[i] = sentinel(i);
        values = pattern;
    }
    clcnn_tensor *t = NULL;
    clcnn_status status = kit_tensor_new(ctx, dtype, dims, values, &t);
    free(pattern);
    void *expected = NULL;
    size_t bytes = 0;
    if (status == CLCNN_OK)
        status = kit_tensor_read_raw(t, &expected, &bytes);
    if (status != CLCNN_OK) {
        clcnn_tensor_destroy(t);
        return status;
    }
    int k = watch->count++;
    watch->tensor[k] = t;
    watch->expected[k] = expected;
    watch->bytes[k] = bytes;
    *tensor = t;
    return CLCNN_OK;
}

int kit_watch_first_changed(const kit_watch *watch, clcnn_status *status)
{
    if (status)
        *status = CLCNN_OK;
    for (int k = 0; k < watch->count; k++) {
        /* Reads go through the tensor's own context, whose queue is in
         * order: anything a failed call enqueued has run by then. */
        int same = 0;
        clcnn_status st = kit_tensor_equals_raw(watch->tensor[k], watch->expected[k], watch->bytes[k], &same);
        if (st != CLCNN_OK || !same) {
            if (status)
                *status = st;
            return k;
        }
    }
    return -1;
}

void kit_watch_release(kit_watch *watch)
{
    for (int k = 0; k < watch->count; k++) {
        clcnn_tensor_destroy(watch->tensor[k]);
        free(watch->expected[k]);
    }
    memset(watch, 0, sizeof *watch);
}
