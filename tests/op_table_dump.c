/* Prints host/api/op_table.h's entries, one op a line ("name (operands)"
 * as written in the table), then "status NAME value" for each status of
 * host/api/status_list.h, for tests/check_api_tables.py to compare with
 * clcnn.h and the Python package. */
#include <stdio.h>

#include "op_table.h"
#include "status_list.h"

#define PRINT_OP(name, operands) printf("op %s %s\n", #name, #operands);
#define PRINT_STATUS(name, value, meaning) printf("status %s %d\n", #name, value);

int main(void)
{
    CLCNN_OPS(PRINT_OP)
    CLCNN_STATUSES(PRINT_STATUS)
    return 0;
}
