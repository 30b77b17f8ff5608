/* Status strings (from status_list.h) and the version: the parts of the
 * API that need nothing but clcnn.h. */
#include "clcnn.h"
#include "status_list.h"

/* Each entry's value is the enum's: a list that drifts from clcnn.h does
 * not compile. */
#define ASSERT_VALUE(name, value, meaning)                                                                             \
    _Static_assert(CLCNN_##name == (value), "status_list.h: CLCNN_" #name " is not " #value " in clcnn.h");
CLCNN_STATUSES(ASSERT_VALUE)
#undef ASSERT_VALUE

#define STRING(name, value, meaning) [CLCNN_##name] = "CLCNN_" #name ": " meaning,
static const char *const status_strings[] = {CLCNN_STATUSES(STRING)};
#undef STRING

const char *clcnn_status_string(clcnn_status status)
{
    if ((unsigned)status < sizeof status_strings / sizeof status_strings[0])
        return status_strings[status];
    return "CLCNN_ERROR_UNKNOWN: not a clcnn_status value";
}

const char *clcnn_version(void)
{
    return CLCNN_VERSION_STRING;
}
