/* The progress bar of `clcnn train` and its lines without a terminal. */
#define _POSIX_C_SOURCE 200809L

#include "train_progress.h"

#include <stdio.h>
#include <unistd.h>

#include "cli.h"

progress progress_start(void)
{
    progress p = {isatty(fileno(stderr)), cli_now(), 0.0, 1};
    return p;
}

void progress_show(progress *p, long epoch, long epochs, size_t done, size_t total, double loss, int final)
{
    const double now = cli_now(), elapsed = now - p->start;
    const double rate = elapsed > 0 ? (double)done / elapsed : 0.0;
    if (p->tty) {
        if (!final && now - p->last_draw < 0.1)
            return;
        p->last_draw = now;
        enum { WIDTH = 24 };
        char bar[WIDTH + 1];
        int filled = (int)((double)WIDTH * (double)done / (double)total);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\repoch %ld/%ld [%s] %6zu/%zu  loss %.4f  %4.0f images/s  %5.1f s ", epoch, epochs, bar, done,
                total, loss, rate, elapsed);
        if (final)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    int tenth = (int)(10 * done / total);
    if (tenth < p->next_tenth && !final)
        return;
    if (final && p->next_tenth > 10)
        return;
    p->next_tenth = tenth + 1;
    fprintf(stderr, "epoch %ld/%ld: %zu/%zu images, loss %.4f, %.0f images/s, %.1f s\n", epoch, epochs, done, total,
            loss, rate, elapsed);
    fflush(stderr);
}
