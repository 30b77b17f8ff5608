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
 * An unknown key or a value outside [lo, hi] is refused by
 * clcnn_context_set_tuning, and in CLCNN_TUNE it is skipped and named in
 * clcnn_context_tuning_notes. CLCNN_TUNING_ALIASES
 * below lists the old names of renamed keys, which CLCNN_TUNE still takes. This header has no
 * dependencies, so a test can include it on its own. */
#ifndef CLCNN_TUNING_TABLE_H
#define CLCNN_TUNING_TABLE_H

/* The kernels a CHOICE key can force, in value order after 0 (auto: the
 * planner's rules); the names are CLCNN_TUNE's values, the order the
 * planners' enums (host/ops/conv/conv.h, conv_plan.h, host/ops/pool_plan.h). */
#define CLCNN_CONV_DATA_KERNELS(X) X(gemm) X(forward) X(matrix) X(dot) X(gather)
#define CLCNN_CONV_FILTER_KERNELS(X) X(gemm) X(blocked) X(rows) X(tiles)
/* The blockings of the local-memory GEMMs (conv_plan.c), by name: mMnNkK,
 * M x N the block of the output a work-group computes, K the depth of one
 * step; their order is the gemm_blocking key's values. */
#define CLCNN_GEMM_BLOCKINGS(X) X(m64n64k16) X(m64n64k8) X(m32n32k16) X(m32n32k8) X(m32n16k16) X(m32n16k8)
#define CLCNN_DEPTHWISE_DATA_KERNELS(X) X(forward) X(gather)
#define CLCNN_POOL_BACKWARD_KERNELS(X) X(global) X(blocks) X(gather) X(recompute)
#define CLCNN_CHOICE_COUNT(name) +1
#define CLCNN_CHOICE_NAME(name) "|" #name

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
      "1: dW with few input channels (filter_rows_max_channels) takes a whole kernel row per work-item")               \
    X(int, conv_data, CHOICE, 0, 0 CLCNN_CONV_DATA_KERNELS(CLCNN_CHOICE_COUNT), 0, 0, "auto", "auto",                  \
      "conv dA's kernel: auto (the planner's rules), gemm, forward, matrix, dot or gather, forced where it runs the "  \
      "layer (depthwise layers aside), else auto")                                                                     \
    X(int, conv_filter, CHOICE, 0, 0 CLCNN_CONV_FILTER_KERNELS(CLCNN_CHOICE_COUNT), 0, 0, "auto", "auto",              \
      "conv dW's kernel: auto (the planner's rules), gemm (with db), blocked, rows or tiles, forced where it runs "    \
      "the layer (depthwise layers aside), else auto")                                                                 \
    X(int, depthwise_data, CHOICE, 0, 0 CLCNN_DEPTHWISE_DATA_KERNELS(CLCNN_CHOICE_COUNT), 0, 0, "auto", "auto",        \
      "depthwise dA's kernel: auto (the planner's rules), forward (depthwise_forward over dZ, at stride 1 with one "   \
      "output channel per input channel) or gather (depthwise_backward_data), forced where it runs the layer, else "   \
      "auto")                                                                                                          \
    X(int, data_as_forward_min_rows, COUNT, 0, 1 << 30, 256, 256, "256", "256",                                        \
      "rows of the GEMM view (fully connected, pointwise) from which conv dA is the forward kernel over dZ and W "     \
      "transposed")                                                                                                    \
    X(int, data_matrix_min_channels, COUNT, 0, 1 << 30, 32, 32, "32", "32",                                            \
      "output channels from which dA of the GEMM view with fewer rows is conv_backward_data_matrix")                   \
    X(int, data_matrix_channels, COUNT, 1, 16, 4, 4, "4", "4",                                                         \
      "input channels per work-item of conv_backward_data_matrix")                                                     \
    X(int, data_dot_max_channels, COUNT, 0, 16, 4, 4, "4", "4",                                                        \
      "most input channels of an ungrouped layer whose dA is dot products across the output channels "                 \
      "(conv_backward_data_dot) rather than the forward at stride 1")                                                  \
    X(int, data_dot_min_out_channels, COUNT, 1, 1 << 30, 8, 8, "8", "8",                                               \
      "fewest output channels for conv_backward_data_dot (below, the gather)")                                         \
    X(int, data_dot_lanes, COUNT, 1, 4096, 96, 96, "96", "96",                                                         \
      "most lanes of partial sums per work-item of conv_backward_data_dot (tile x input channels x vector): the "      \
      "vector narrows, down to 4, to keep within them")                                                                \
    X(int, data_dot_const_channels, FLAG, 0, 1, 1, 1, "1", "1",                                                        \
      "1: conv_backward_data_dot has the input channels compiled in (a program per n_C_prev); 0: it reads them from "  \
      "its shape arguments, its partial sums sized for data_dot_max_channels (one program for every shape)")           \
    X(int, narrow_vector_min, VECTOR, 1, 16, 4, 4, "4", "4",                                                           \
      "narrowest vector to which conv_backward_data_dot and conv_backward_filter_rows narrow theirs, to keep their "   \
      "partial sums within data_dot_lanes or the dW tile")                                                             \
    X(int, filter_rows_max_channels, COUNT, 0, 16, 4, 4, "4", "4",                                                     \
      "most input channels for which filter_by_rows applies")                                                          \
    X(int, filter_rows_len_tiles, COUNT, 1, 4, 2, 2, "2", "2",                                                         \
      "longest kernel row (f_w x input channels) filter_by_rows takes, in filter_tile_rows")                           \
    X(int, filter_rows_const_row, FLAG, 0, 1, 1, 1, "1", "1",                                                          \
      "1: conv_backward_filter_rows has n_C_prev and the row f_w x n_C_prev compiled in (a program per pair); 0: "     \
      "it reads them from its shape arguments, its row sized for the longest filter_by_rows takes (one program)")      \
    X(int, use_filter_blocked, FLAG, 0, 1, 1, 0, "1", "0",                                                             \
      "1: dW of the GEMM view is conv_backward_filter_blocked (work-groups take the pixels in blocks between "         \
      "barriers, dW written directly)")                                                                                \
    X(int, use_filter_block_rows, FLAG, 0, 1, 1, 0, "1", "0",                                                          \
      "1: conv_backward_filter on ungrouped layers takes each chunk's rows in blocks of about filter_block_pixels "    \
      "between barriers")                                                                                              \
    X(int, filter_block_rows_grouped, FLAG, 0, 1, 0, 0, "0", "0",                                                      \
      "1: use_filter_block_rows applies to grouped layers too (measured no faster on a CPU)")                          \
    X(int, filter_block_pixels, COUNT, 1, 1 << 16, 64, 64, "64", "64",                                                 \
      "output pixels the items of a dW work-group take together between barriers")                                     \
    X(int, filter_block_group, COUNT, 1, 64, 8, 8, "8", "8",                                                           \
      "most work-items along each of the two dims of a dW work-group that shares blocks")                              \
    X(int, filter_blocked_min_groups, COUNT, 1, 1 << 16, 4, 4, "4", "4",                                               \
      "work-groups conv_backward_filter_blocked keeps, at least, as its groups grow")                                  \
    X(int, conv_min_groups, COUNT, 1, 1 << 16, 16, 16, "16", "16",                                                     \
      "work-groups conv_backward_filter and conv_backward_data_matrix keep, at least, as their groups grow")           \
    X(int, filter_chunk_min_pixels, COUNT, 1, 1 << 30, 64, 64, "64", "64",                                             \
      "fewest output pixels per chunk of conv dW's reduction (whole output rows)")                                     \
    X(int, filter_chunk_reads, COUNT, 0, 1 << 16, 3, 0, "3", "0",                                                      \
      "if not 0, dW takes no more chunks than keep their partial sums within this many times what the reduction "      \
      "reads (A_prev and dZ); 0: no such cap")                                                                         \
    X(int, bias_chunk_min_pixels, COUNT, 1, 1 << 30, 256, 256, "256", "256",                                           \
      "fewest pixels per chunk of db's reduction")                                                                     \
    X(int, forward_tile_overhead, COUNT, 0, 1 << 16, 12, 12, "12", "12",                                               \
      "a conv forward tile's fixed work per reduction step, in pixels' worth, against which conv_forward_tile picks "  \
      "the tile of a wide row")                                                                                        \
    X(int, weights_local_in, GROUP, 1, 1024, 16, 16, "16", "16",                                                       \
      "work-items per group along the input channels (written) of transpose_weights, turn_weights and "                \
      "residue_filters")                                                                                               \
    X(int, weights_local_out, GROUP, 1, 1024, 4, 4, "4", "4",                                                          \
      "work-items per group along the output channels of those kernels")                                               \
    X(int, gemm_narrow_columns, COUNT, 0, 1 << 16, 16, 16, "16", "16",                                                 \
      "most columns (channels of a group) for which a local-memory GEMM takes the narrow blockings (32 x 16)")         \
    X(int, gemm_medium_columns, COUNT, 0, 1 << 16, 32, 32, "32", "32",                                                 \
      "most columns for which it takes the medium ones (32 x 32); wider GEMMs take 64 x 64 first")                     \
    X(int, gemm_blocking, CHOICE, 0, 0 CLCNN_GEMM_BLOCKINGS(CLCNN_CHOICE_COUNT), 0, 0, "auto", "auto",                 \
      "the local-memory GEMMs' blocking: auto (the list for the GEMM's width), or m64n64k16, m64n64k8, m32n32k16, "  \
      "m32n32k8, m32n16k16 or m32n16k8 tried first, where the device runs it")                                       \
    X(int, gemm_split_blocks, COUNT, 1, 1 << 20, 1024, 1024, "1024", "1024",                                           \
      "blocks (of the first wide blocking, 64 x 64) the split dW GEMM aims at in all, splits included")                \
    X(int, gemm_split_min_pixels, COUNT, 1, 1 << 30, 256, 256, "256", "256",                                           \
      "fewest output pixels per split of the dW GEMM")                                                                 \
    X(int, gemm_split_most, COUNT, 1, 4096, 128, 128, "128", "128", "most splits of the dW GEMM")                      \
    X(int, gemm_split_align, COUNT, 1, 4096, 16, 16, "16", "16",                                                       \
      "pixels a split of the dW GEMM rounds up to (16: whole K steps of every blocking)")                              \
    X(int, depthwise_whole_pixels, FLAG, 0, 1, 1, 0, "1", "0",                                                         \
      "1: a depthwise forward or dA work-item takes all of a pixel's channels (fewer where the launch would have "     \
      "under depthwise_min_items items); 0: one vector")                                                               \
    X(int, depthwise_min_items, COUNT, 1, 1 << 20, 256, 256, "256", "256",                                             \
      "fewest work-items a depthwise launch keeps by giving each fewer channels (depthwise_whole_pixels)")             \
    X(int, depthwise_window_per_tile, COUNT, 0, 16, 2, 2, "2", "2",                                                    \
      "the depthwise window along w is compiled in where a tile's input columns are at most this many per pixel of "   \
      "the tile plus depthwise_window_extra")                                                                          \
    X(int, depthwise_window_extra, COUNT, 0, 64, 4, 4, "4", "4",                                                       \
      "input columns past depthwise_window_per_tile per pixel that still compile the window in")                       \
    X(int, depthwise_const_shape, FLAG, 0, 1, 1, 1, "1", "1",                                                          \
      "1: the depthwise kernels have the layer's channels, dW's dilation along w and, where it fits, the window "      \
      "along w and the row (depthwise_window_per_tile) compiled in (a program per layer); 0: they read those from "    \
      "their shape arguments (one program per tile, vector, f_w and multiplier)")                                      \
    X(int, depthwise_filter_chunk_pixels, COUNT, 1, 1 << 30, 64, 64, "64", "64",                                       \
      "fewest output pixels per chunk of depthwise dW's reduction (whole output rows)")                                \
    X(int, depthwise_filter_max_chunks, COUNT, 1, 4096, 256, 256, "256", "256",                                        \
      "most chunks of depthwise dW's reduction")                                                                       \
    X(int, depthwise_filter_tap_tiles, COUNT, 1, 16, 2, 2, "2", "2",                                                   \
      "depthwise dW: the taps of a work-item's kernel rows fit in this many times filter_tile_rows vectors")           \
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
    X(int, pool_backward, CHOICE, 0, 0 CLCNN_POOL_BACKWARD_KERNELS(CLCNN_CHOICE_COUNT), 0, 0, "auto", "auto",          \
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

/* The names of each CHOICE key's values, value 0 first, '|' between: CLCNN_TUNE
 * and the config string take and give these. Each row X(key, "name0|name1|..."). */
#define CLCNN_TUNING_CHOICES(X)                                                                                        \
    X(conv_data, "auto" CLCNN_CONV_DATA_KERNELS(CLCNN_CHOICE_NAME))                                                    \
    X(conv_filter, "auto" CLCNN_CONV_FILTER_KERNELS(CLCNN_CHOICE_NAME))                                                \
    X(gemm_blocking, "auto" CLCNN_GEMM_BLOCKINGS(CLCNN_CHOICE_NAME))                                                   \
    X(depthwise_data, "auto" CLCNN_DEPTHWISE_DATA_KERNELS(CLCNN_CHOICE_NAME))                                          \
    X(pool_backward, "auto" CLCNN_POOL_BACKWARD_KERNELS(CLCNN_CHOICE_NAME))

/* Names of renamed keys that CLCNN_TUNE still accepts, so that settings
 * written for older builds keep their meaning; the config string gives
 * the new names only. Each row X(old, key). */
#define CLCNN_TUNING_ALIASES(X)                                                                                        \
    X(filter_chunks, filter_bias_chunks)                                                                               \
    X(conv_local_tiles, use_local_gemm_forward)                                                                        \
    X(data_local_tiles, use_local_gemm_data)                                                                           \
    X(filter_local_tiles, use_local_gemm_filter)

#endif
