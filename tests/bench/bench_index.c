/*
 * bench_index.c: indexing throughput from already-downloaded objects: the server's work per
 * event once an object's body is in memory (ingest_parse_log: UTF-8, JSON, typed fields; then
 * idx_commit_batch: one SQLite transaction per batch of objects, events stored verbatim), into
 * a fresh index file in a temporary folder. No network: the S3 side is measured by bench_s3
 * and by the catch-up run of run.sh.
 *
 *   bench_index [--apps N] [--objects-per-app N] [--events-per-object N] [--batch N]
 *
 * The objects look like the tracker's: steps of begin_entry, begin_span, attribute, end_span
 * and end_entry lines (~220 bytes a line). Prints events/s of wall time and of CPU time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "gen_events.h"
#include "idx.h"
#include "ingest.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int apps = gen_arg(argc, argv, 1, "--apps", 100),
        per_app = gen_arg(argc, argv, 1, "--objects-per-app", 50),
        events = gen_arg(argc, argv, 1, "--events-per-object", 100),
        batch = gen_arg(argc, argv, 1, "--batch", 1000);
    char dir[] = "/tmp/spoor-bench-index-XXXXXX", path[64];
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/db.sqlite3", dir);
    struct idx *x;
    struct spoor_error err;
    int64_t pid;
    char *wm;
    if (idx_open(path, &x, &err) != 0 || idx_project_ensure(x, "bench", &pid, &wm, &err) != 0) {
        fprintf(stderr, "bench_index: %s\n", err.message);
        return 1;
    }
    free(wm);
    /* the bodies first: downloading is not what is measured */
    int nobj = apps * per_app;
    char **bodies = malloc((size_t)nobj * sizeof *bodies);
    char(*keys)[160] = malloc((size_t)nobj * sizeof *keys);
    size_t bytes = 0;
    for (int i = 0; i < nobj; i++) {
        int o = i / apps;
        bodies[i] = gen_object_body(o, events);
        bytes += strlen(bodies[i]);
        gen_object_key(keys[i], sizeof keys[i], "bench", i, apps);
    }
    struct idx_object *objs = calloc((size_t)batch, sizeof *objs);
    struct ingest_log *logs = calloc((size_t)batch, sizeof *logs);
    char apps_id[batch][16];
    long long total = 0;
    double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (int start = 0; start < nobj; start += batch) {
        int n = nobj - start < batch ? nobj - start : batch;
        for (int k = 0; k < n; k++) {
            int i = start + k;
            size_t len = strlen(bodies[i]);
            ingest_parse_log(bodies[i], len, 1 << 20, &logs[k]);
            total += (long long)logs[k].n;
            snprintf(apps_id[k], sizeof apps_id[k], "app-%04d", i % apps);
            objs[k] = (struct idx_object){.key = keys[i],
                                          .kind = IDX_LOG,
                                          .app_id = apps_id[k],
                                          .size = (int64_t)len,
                                          .last_modified = "2026-11-21T10:00:00.000Z",
                                          .log = &logs[k]};
        }
        if (idx_commit_batch(x, pid, objs, (size_t)n, keys[start + n - 1], &err) != 0) {
            fprintf(stderr, "bench_index: %s\n", err.message);
            return 1;
        }
        for (int k = 0; k < n; k++)
            ingest_log_cleanup(&logs[k]);
    }
    double wall = clock_s(CLOCK_MONOTONIC) - w0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    int64_t stored = 0;
    idx_count(x, "event", &stored, &err);
    printf("indexed %lld events (%d objects, %.1f MB of JSON lines, %d objects a transaction): "
           "%.0f events/s wall, %.0f events/s per CPU second; %lld events in the index\n",
           total, nobj, (double)bytes / 1e6, batch, (double)total / wall, (double)total / cpu,
           (long long)stored);
    idx_close(x);
    for (int i = 0; i < nobj; i++)
        free(bodies[i]);
    free(bodies);
    free(keys);
    free(objs);
    free(logs);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 && stored == total ? 0 : 1;
}
