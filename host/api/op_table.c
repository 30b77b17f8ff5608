/* op_table.h against clcnn.h at compile time: for every entry, the type the
 * entry describes must be the declared function's, so that a changed
 * signature, a reordered or retyped operand or a missing op stops the
 * build here. (Operand names are checked by the test api_tables.) */
#include "clcnn.h"
#include "op_table.h"

#define CLCNN_CTX(n) clcnn_context *
#define CLCNN_IN(n) const clcnn_tensor *
#define CLCNN_IN_OPT(n) const clcnn_tensor *
#define CLCNN_OUT(n) clcnn_tensor *
#define CLCNN_OUT_OPT(n) clcnn_tensor *
#define CLCNN_IN_OUT(n) clcnn_tensor *
#define CLCNN_IN_OUT_OPT(n) clcnn_tensor *
#define CLCNN_INT(n) int
#define CLCNN_DOUBLE(n) double
#define CLCNN_POOL_MODE(n) clcnn_pool_mode
#define CLCNN_ACTIVATION(n) clcnn_activation
#define CLCNN_CONV_PARAMS(n) const clcnn_conv_params *
#define CLCNN_POOL_PARAMS(n) const clcnn_pool_params *

/* _Generic selects by type compatibility, which for functions is the
 * return type and each parameter's type in order. */
#define SAME_TYPE(name, operands)                                                                                      \
    _Static_assert(_Generic(&clcnn_##name, clcnn_status(*) operands : 1, default : 0),                                 \
                   "op_table.h: the entry of " #name " does not match clcnn_" #name " in clcnn.h");
CLCNN_OPS(SAME_TYPE)
