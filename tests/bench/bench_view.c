/*
 * bench_view.c: the cost of rendering an application view from the index, without the HTTP
 * layer and without the rendered-view cache: what the first request for an application (or
 * the first after new events) costs the server's loop. Reads an index written by spoor-server.
 *
 *   bench_view DB PROJECT APP [ROUNDS]   (partition: none, or the most recent)
 *
 * Prints the number of events, the output size and the median, p90 and p99 render time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "idx.h"
#include "steps.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int keep_app(void *ud, const struct idx_app_row *r, const char *version)
{
    struct idx_app_row *out = ud;
    *out = *r;
    out->app_id = strdup(r->app_id);
    out->graph_json = strdup(r->graph_json ? r->graph_json : "{}");
    return 0;
}

static int count_child(void *ud, const struct idx_child_row *c)
{
    ++*(int *)ud;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_view DB PROJECT APP [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 4 ? atoi(argv[4]) : 200;
    struct idx *x;
    struct spoor_error err;
    int64_t pid;
    if (idx_open(argv[1], &x, &err) != 0 || idx_project_find(x, argv[2], &pid, &err) != 0) {
        fprintf(stderr, "bench_view: %s\n", err.message);
        return 1;
    }
    struct idx_app_row app = {0};
    if (!pid || idx_app_find(x, pid, argv[3], NULL, keep_app, &app, &err) != 0 || !app.id) {
        fprintf(stderr, "bench_view: no application %s in project %s\n", argv[3], argv[2]);
        return 1;
    }
    double *t = malloc((size_t)rounds * sizeof *t);
    size_t n = 0, bytes = 0;
    for (int i = 0; i < rounds; i++) {
        double t0 = now_ms();
        struct idx_app_row again = {0};
        int children = 0;
        struct steps_line *lines;
        char *text;
        struct buf out;
        buf_init(&out, SIZE_MAX);
        idx_app_find(x, pid, argv[3], NULL, keep_app, &again, &err);
        buf_append_str(&out, again.graph_json);
        idx_app_children(x, pid, &again, count_child, &children, &err);
        idx_app_events(x, app.id, &lines, &n, &text, &err);
        steps_build(lines, n, &out);
        t[i] = now_ms() - t0;
        bytes = out.len;
        free(lines);
        free(text);
        buf_cleanup(&out);
        free((char *)again.app_id);
        free((char *)again.graph_json);
    }
    qsort(t, (size_t)rounds, sizeof *t, cmp_double);
    printf("render %s/%s: %zu events, %zu bytes of steps, %d rounds: median %.3f ms, p90 %.3f "
           "ms, p99 %.3f ms\n",
           argv[2], argv[3], n, bytes, rounds, t[rounds / 2], t[rounds * 9 / 10],
           t[rounds * 99 / 100]);
    free(t);
    free((char *)app.app_id);
    free((char *)app.graph_json);
    idx_close(x);
    return 0;
}
