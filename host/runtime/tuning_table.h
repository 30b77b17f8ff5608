/* The one table of tuning keys: the launch parameters the host passes to
 * the kernels with -D, per device class. Each row
 *   X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)
 * drives the clcnn_tuning struct (internal.h), the defaults, CLCNN_TUNE
 * parsing and the config string (tuning.c), and docs/tuning.md's table of keys,
 * which tests/test_tuning_table.c compares with this file.
 *   kind     COUNT (any value in range), VECTOR (a power of two: rounded
 *            down), GROUP (a work-group size: capped by the device), FLAG,
 *            CHOICE (which kernel: 0 the planner's rules, 1.. one kernel
 *            where it can run the layer; its names in CLCNN_TUNING_CHOICES)
 *   cpu, gpu the default on CPUs and on everything else (GPUs,
 *            accelerators), as expressions over `const clcnn_device_facts
 *            *dev`; CLCNN_TUNE=table=cpu|gpu picks the column on any device
 *   *_doc    those defaults in words, as docs/tuning.md shows them
 * Values outside [lo, hi] in CLCNN_TUNE are ignored. CLCNN_TUNING_ALIASES
 * below lists the old names of renamed keys, which CLCNN_TUNE still takes. This header has no
 * dependencies, so a test can include it on its own. */
#ifndef CLCNN_TUNING_TABLE_H
#define CLCNN_TUNING_TABLE_H

#define CLCNN_TUNING_KEYS(X)                                                                                           \
    X(int, conv_forward_tile, COUNT, 1, 16, dev->simd_floats >= 16 ? 8 : 6, 4,                                         \
      "8 with 16-float SIMD (AVX-512), else 6", "4",                                                                   \
      "output pixels per work-item in conv forward: a row up to one pixel wider than this is one tile, a wider row "   \
      "takes the tile from half of this up to it with the least cost")                                                 \
    X(int, conv_tile_pixels, COUNT, 1, 16, dev->simd_floats >= 16 ? 8 : 4, 4,                                          \
      "8 with 16-float SIMD (AVX-512), else 4", "4",                                                                   \
      "input pixels per work-item in conv dA and the other depthwise dA; a row takes the largest tile above half of "  \
      "this that divides it")                                                                                          \
    X(int, depthwise_tile, COUNT, 1, 16, 8, 4, "8", "4",                                                               \
      "output pixels per work-item in depthwise forward and in the depthwise dA that is a forward (stride 1, one "     \
      "output channel per input channel); a row takes the largest tile above half of this that divides it")            \
    X(int, conv_vector, VECTOR, 1, 16, 16, 4, "16", "4",                                                               \
      "channels per work-item in conv forward, dA, dW, db and the other depthwise dA (1 to 16)")                       \
    X(int, depthwise_vector, VECTOR, 1, 16, dev->simd_floats >= 16 ? 16 : 8, 4,                                        \
      "16 with 16-float SIMD (AVX-512), else 8", "4",                                                                  \
      "channels per load in depthwise forward, dW and the dA that is a forward (1 to 16)")                             \
    X(int, conv_local, GROUP, 1, 1024, 8, 64, "8", "64", "work-items per group in conv forward and dA")                \
    X(int, filter_tile_rows, COUNT, 1, 16, dev->simd_floats >= 16 ? 8 : 6, 4, "8 (AVX-512), else 6", "4",              \
      "dW rows (tap, input channel) per work-item")                                                                    \
    X(int, filter_bias_chunks, COUNT, 1, 4096, 16, 256, "16", "256",                                                   \
      "most chunks of dW's and db's reduction (on CPUs fewer when dW is as large as the activations)")                 \
    X(int, use_local_gemm_forward, FLAG, 0, 1, 0, 1, "0", "1",                                                         \
      "1: conv forward is a GEMM of blocks staged in local memory, where a blocking fits the device")                  \
    X(int, use_local_gemm_data, FLAG, 0, 1, 0, 1, "0", "1",                                                            \
      "1: conv dA is that GEMM per stride residue, with sub-filters (where a blocking fits)")                          \
    X(int, use_local_gemm_filter, FLAG, 0, 1, 0, 1, "0", "1",                                                          \
      "1: conv dW and db are that GEMM split along the pixels, then summed (where a blocking fits)")                   \
    X(int, filter_by_rows, FLAG, 0, 1, 1, 0, "1", "0 (not yet measured on a GPU)",                                     \
      "1: dW with at most 4 input channels takes a whole kernel row per work-item")                                    \
    X(int, pool_vector, VECTOR, 1, 16, 16, 4, "16", "4", "widest channel vector in pooling")                           \
    X(int, pool_tile, COUNT, 1, 16, 4, 1, "4", "1",                                                                    \
      "pixels (or blocks) along a row per work-item in "                                                               \
      "pooling")                                                                                                       \
    X(int, pool_local, GROUP, 1, 1024, 64, 256, "64", "256", "work-items per group in pooling")                        \
    X(int, pool_whole_pixels, FLAG, 0, 1, 1, 0, "1", "0",                                                              \
      "1: a pooling work-item takes all of a pixel's channels (outside one-window pooling), the last vector "          \
      "overlapping the one before where it does not divide n_C; 0: one vector that divides n_C")                       \
    X(int, pool_row_groups, FLAG, 0, 1, 1, 0, "1", "0",                                                                \
      "1: pooling's work-groups take whole rows, in power-of-two shapes; 0: channels first, then along a row, then "   \
      "rows")                                                                                                          \
    X(int, pool_global_runs, FLAG, 0, 1, 1, 0, "1", "0",                                                               \
      "1: where pooling has one output pixel per image, a work-item takes a run of channel vectors, as many as "       \
      "leave pool_global_min_items items; 0: one vector")                                                              \
    X(int, pool_global_min_items, COUNT, 1, 1 << 20, 64, 64, "64", "64",                                               \
      "work-items a launch of pooling with one output pixel per image keeps, at least, under pool_global_runs")        \
    X(int, pool_channel_block, VECTOR, 1, 16, 4, 4, "4", "4",                                                          \
      "channel vectors a tap of pooling with one output pixel per image reads at once, the most that divide the "      \
      "item's")                                                                                                        \
    X(int, pool_const_window, COUNT, 0, 16, 4, 4, "4", "4",                                                            \
      "windows and strides up to this on both axes are compiled into pooling's kernels as constants (a program per "   \
      "window and strides)")                                                                                           \
    X(int, pool_recompute_max_elements, COUNT, 0, 1 << 24, 8192, 8192, "8192", "8192",                                 \
      "max pooling backward of at most this many input elements with windows that overlap or reach into padding "      \
      "rescans the covering windows in its gather instead of launching the argmax pass first (the launch costs "       \
      "more than the rescans), as far as pool_recompute_max_loads allows")                                             \
    X(int, pool_recompute_max_loads, COUNT, 0, 1 << 30, 1 << 20, 1 << 20, "1048576", "1048576",                        \
      "most elements those rescans load in all, so that large windows do not make the gather quadratic in the window") \
    X(int, pool_backward, CHOICE, 0, 4, 0, 0, "0 (auto)", "0 (auto)",                                                  \
      "pooling backward's kernels, where they can run the shape (else auto): 1 global (pool_backward_global_*), 2 "    \
      "blocks (pool_backward_blocks), 3 gather (pool_backward_average; max: pool_argmax, then pool_backward_max), 4 "  \
      "recompute (max: pool_backward_max rescanning the windows)")                                                     \
    X(int, use_stream_stores, FLAG, 0, 1, 1, 0, "1", "0",                                                              \
      "1: pooling, depthwise conv and the element-wise ops write an output of stream_min_kib or more with "            \
      "non-temporal stores, where every store is aligned")                                                             \
    X(int, stream_min_kib, COUNT, 0, 1 << 21, 8192, 8192, "8192 (8 MiB)", "8192 (8 MiB)",                              \
      "smallest output in KiB that use_stream_stores streams: larger than a core's own caches, so it has left them "   \
      "before its next use")                                                                                           \
    X(int, elementwise_local, GROUP, 1, 1024, 1, 256, "1", "256",                                                      \
      "work-items per group of zero_pad, ReLU, softmax cross-entropy, SGD")                                            \
    X(int, elementwise_vector, VECTOR, 1, 16, 16, 4, "16", "4",                                                        \
      "elements per load and store in zero_pad, ReLU, softmax cross-entropy, SGD (1 to 16)")                           \
    X(int, elementwise_chunk, COUNT, 1, 65536, 256, 4, "256", "4",                                                     \
      "most vectors (softmax forward: rows) per work-item in those ops")                                               \
    X(int, elementwise_spread, COUNT, 1, 1024, 4, 4, "4", "4",                                                         \
      "groups per compute unit those ops keep, at least, where the tensor has enough vectors (fewer vectors per "      \
      "work-item first)")                                                                                              \
    X(int, sum_local, GROUP, 1, 1024, 64, 256, "64", "256",                                                            \
      "work-items per group of the kernels that add conv's partial sums (dW, db, depthwise dW)")                       \
    X(int, softmax_mean_local, GROUP, 1, 1024, 256, 256, "256", "256",                                                 \
      "most work-items (rounded down to a power of two) of the one group that adds softmax cross-entropy's losses "    \
      "into their mean; the same for both ways of the forward, so that their bits agree")                              \
    X(int, softmax_one_group_rows, COUNT, 0, 1 << 20, 256, 256, "256", "256",                                          \
      "most rows for which softmax cross-entropy forward is one launch of one group (rows and mean together); "        \
      "above, a launch for the rows and one for the mean")

/* The names of each CHOICE key's values, in value order: CLCNN_TUNE and
 * the config string take and give these. Each row X(key, "name0|name1|..."). */
#define CLCNN_TUNING_CHOICES(X) X(pool_backward, "auto|global|blocks|gather|recompute")

/* Names of renamed keys that CLCNN_TUNE still accepts, so that settings
 * written for older builds keep their meaning; the config string gives
 * the new names only. Each row X(old, key). */
#define CLCNN_TUNING_ALIASES(X)                                                                                        \
    X(filter_chunks, filter_bias_chunks)                                                                               \
    X(conv_local_tiles, use_local_gemm_forward)                                                                        \
    X(data_local_tiles, use_local_gemm_data)                                                                           \
    X(filter_local_tiles, use_local_gemm_filter)

#endif
