/* Every public op of clcnn.h, with its operands in order and their roles:
 * the one list that the prototype check (op_table.c), `clcnn check`,
 * `clcnn bench`, the fuzzer and the Python bindings' check iterate.
 * clcnn.h stays the written contract; op_table.c fails to compile when an
 * entry here and its declaration there disagree, and the test api_tables
 * fails when clcnn.h declares an op that is not here.
 *
 * CLCNN_OPS(OP) calls OP(name, operands) once per op, in clcnn.h's order;
 * the function is clcnn_##name, it returns clcnn_status, and operands is a
 * parenthesised list of role macros, each with the parameter's name:
 *   CLCNN_CTX(n)         clcnn_context *
 *   CLCNN_IN(n)          const clcnn_tensor *, required
 *   CLCNN_IN_OPT(n)      const clcnn_tensor *, may be NULL
 *   CLCNN_OUT(n)         clcnn_tensor *, written, required
 *   CLCNN_OUT_OPT(n)     clcnn_tensor *, written, may be NULL (not computed)
 *   CLCNN_IN_OUT(n)      clcnn_tensor *, read and written in place
 *   CLCNN_IN_OUT_OPT(n)  clcnn_tensor *, read and written, may be NULL
 *   CLCNN_INT(n)         int
 *   CLCNN_DOUBLE(n)      double
 *   CLCNN_POOL_MODE(n)   clcnn_pool_mode
 *   CLCNN_ACTIVATION(n)  clcnn_activation
 *   CLCNN_CONV_PARAMS(n) const clcnn_conv_params *
 *   CLCNN_POOL_PARAMS(n) const clcnn_pool_params *
 * A user defines the role macros it needs before expanding the table: as
 * the C types above, `(*f) operands` is the op's parameter list (see
 * op_table.c); `CLCNN_UNPAREN operands` is a comma list; `#operands` is
 * the entry's text, which tests/op_table_dump.c prints for the tests. */
#ifndef CLCNN_OP_TABLE_H
#define CLCNN_OP_TABLE_H

/* clang-format off */
#define CLCNN_OPS(OP)                                                                                                  \
    OP(zero_pad, (CLCNN_CTX(ctx), CLCNN_IN(x), CLCNN_INT(pad), CLCNN_OUT(x_pad)))                                       \
    OP(conv_forward, (CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_IN(b), CLCNN_INT(stride), CLCNN_INT(pad),  \
                      CLCNN_OUT(z)))                                                                                   \
    OP(conv_backward, (CLCNN_CTX(ctx), CLCNN_IN(dz), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_INT(stride),                \
                       CLCNN_INT(pad), CLCNN_OUT_OPT(da_prev), CLCNN_OUT_OPT(dw), CLCNN_OUT_OPT(db)))                  \
    OP(pool_forward, (CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_INT(f), CLCNN_INT(stride), CLCNN_POOL_MODE(mode),      \
                      CLCNN_OUT(a)))                                                                                   \
    OP(pool_backward, (CLCNN_CTX(ctx), CLCNN_IN(da), CLCNN_IN(a_prev), CLCNN_INT(f), CLCNN_INT(stride),              \
                       CLCNN_POOL_MODE(mode), CLCNN_OUT(da_prev)))                                                     \
    OP(conv_forward_ex, (CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_IN_OPT(b), CLCNN_CONV_PARAMS(params),  \
                         CLCNN_ACTIVATION(act), CLCNN_OUT(z)))                                                         \
    OP(conv_backward_ex, (CLCNN_CTX(ctx), CLCNN_IN(dz), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_CONV_PARAMS(params),    \
                          CLCNN_OUT_OPT(da_prev), CLCNN_OUT_OPT(dw), CLCNN_OUT_OPT(db)))                               \
    OP(pool_forward_ex, (CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_POOL_PARAMS(params), CLCNN_POOL_MODE(mode),         \
                         CLCNN_OUT(a)))                                                                                \
    OP(pool_backward_ex, (CLCNN_CTX(ctx), CLCNN_IN(da), CLCNN_IN(a_prev), CLCNN_POOL_PARAMS(params),                 \
                          CLCNN_POOL_MODE(mode), CLCNN_OUT(da_prev)))                                                  \
    OP(relu_forward, (CLCNN_CTX(ctx), CLCNN_IN(x), CLCNN_OUT(y)))                                                     \
    OP(relu_backward, (CLCNN_CTX(ctx), CLCNN_IN(dy), CLCNN_IN(x), CLCNN_OUT(dx)))                                     \
    OP(softmax_cross_entropy_forward, (CLCNN_CTX(ctx), CLCNN_IN(logits), CLCNN_IN(labels), CLCNN_OUT(probs),         \
                                       CLCNN_OUT(loss), CLCNN_OUT(mean_loss)))                                         \
    OP(softmax_cross_entropy_backward, (CLCNN_CTX(ctx), CLCNN_IN(probs), CLCNN_IN(labels), CLCNN_OUT(dlogits)))     \
    OP(sgd_update, (CLCNN_CTX(ctx), CLCNN_IN_OUT(param), CLCNN_IN(grad), CLCNN_IN_OUT_OPT(velocity),                 \
                    CLCNN_DOUBLE(lr), CLCNN_DOUBLE(momentum), CLCNN_DOUBLE(weight_decay)))                     \
    OP(tensor_convert, (CLCNN_CTX(ctx), CLCNN_IN(src), CLCNN_OUT(dst)))
/* clang-format on */

/* `CLCNN_UNPAREN operands` drops the list's parentheses. */
#define CLCNN_UNPAREN(...) __VA_ARGS__

/* The number of ops. */
#define CLCNN_OP_COUNT_ONE(name, operands) +1
#define CLCNN_OP_COUNT (0 CLCNN_OPS(CLCNN_OP_COUNT_ONE))

#endif
