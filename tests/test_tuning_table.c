/* The table of CLCNN_TUNE keys in docs/tuning.md against
 * host/runtime/tuning_table.h: the same keys in the same order, each with the
 * header's description and CPU and GPU defaults, so that the documentation
 * cannot drift from the code.
 * Usage: test_tuning_table docs/tuning.md */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuning_table.h"

typedef struct key_doc {
    const char *name, *doc, *cpu_doc, *gpu_doc;
} key_doc;

static const key_doc keys[] = {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) {#name, doc, cpu_doc, gpu_doc},
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

#define HEADER "| key | what it sets | CPU default | GPU default |"

/* Splits a markdown row "| a | b | c | d |" into its trimmed cells, in place. */
static int split_row(char *line, char **cells, int capacity)
{
    int n = 0;
    char *at = strchr(line, '|');
    while (at && n < capacity) {
        char *next = strchr(at + 1, '|');
        if (next == NULL)
            break;
        *next = '\0';
        char *cell = at + 1;
        while (*cell == ' ')
            cell++;
        char *end = cell + strlen(cell);
        while (end > cell && end[-1] == ' ')
            *--end = '\0';
        cells[n++] = cell;
        at = next;
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s docs/tuning.md\n", argv[0]);
        return 2;
    }
    FILE *fp = fopen(argv[1], "r");
    if (fp == NULL) {
        fprintf(stderr, "cannot open %s\n", argv[1]);
        return 1;
    }
    char line[4096];
    int in_table = 0, failures = 0;
    size_t row = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (!in_table) {
            in_table = strcmp(line, HEADER) == 0;
            continue;
        }
        if (strncmp(line, "|---", 4) == 0)
            continue;
        if (line[0] != '|')
            break;
        char *cells[8];
        if (split_row(line, cells, 8) != 4) {
            fprintf(stderr, "%s: row %zu of the key table does not have 4 cells: %s\n", argv[1], row + 1, line);
            failures++;
            row++;
            continue;
        }
        if (row >= KEY_COUNT) {
            fprintf(stderr, "%s lists %s, which host/runtime/tuning_table.h does not have\n", argv[1], cells[0]);
            failures++;
            row++;
            continue;
        }
        const key_doc *k = &keys[row];
        char name[128];
        snprintf(name, sizeof name, "`%s`", k->name);
        const char *want[4] = {name, k->doc, k->cpu_doc, k->gpu_doc};
        const char *column[4] = {"key", "what it sets", "CPU default", "GPU default"};
        for (int c = 0; c < 4; c++)
            if (strcmp(cells[c], want[c]) != 0) {
                fprintf(stderr, "%s: row %zu, column '%s': '%s', but host/runtime/tuning_table.h says '%s'\n", argv[1],
                        row + 1, column[c], cells[c], want[c]);
                failures++;
            }
        row++;
    }
    fclose(fp);
    if (!in_table) {
        fprintf(stderr, "%s has no line '%s'\n", argv[1], HEADER);
        return 1;
    }
    for (size_t k = row; k < KEY_COUNT; k++) {
        fprintf(stderr, "%s: the key table lacks `%s` (row %zu of host/runtime/tuning_table.h)\n", argv[1],
                keys[k].name, k + 1);
        failures++;
    }
    printf("%s: %zu rows against %zu keys: %d mismatches\n", argv[1], row, (size_t)KEY_COUNT, failures);
    return failures != 0;
}
