/* The progress of a `clcnn train` epoch on stderr: a bar redrawn in place
 * on a terminal, else a line at each tenth of the epoch. */
#ifndef CLCNN_TOOLS_TRAIN_PROGRESS_H
#define CLCNN_TOOLS_TRAIN_PROGRESS_H

#include <stddef.h>

typedef struct progress {
    int tty;
    double start, last_draw;
    int next_tenth; /* without a terminal: print a line at each tenth */
} progress;

/* The progress of an epoch that starts now. */
progress progress_start(void);
/* Shows done of total images with the running loss; final: the epoch's
 * last batch. */
void progress_show(progress *p, long epoch, long epochs, size_t done, size_t total, double loss, int final);

#endif
