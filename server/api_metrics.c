/*
 * api_metrics.c: /metrics in Prometheus' text format (version 0.0.4).
 *
 *   spoor_up, spoor_start_time_seconds
 *   spoor_http_requests_total{code}          requests answered, by status
 *   spoor_http_request_duration_seconds      histogram of the time to build an answer
 *   spoor_http_view_cache_{hits,misses}_total   application views from the rendered cache
 *   spoor_indexing_ticks_total, spoor_indexing_failures_total
 *   spoor_indexed_objects_total, spoor_indexed_events_total     since this process started
 *   spoor_index_projects, spoor_index_applications              rows in the index now
 *   spoor_index_skipped_total{reason}        skipped objects and lines, kept in the index
 *   spoor_index_lag_seconds{project}         now minus the end of the project's newest
 *                                            successful indexing job (NaN: none yet)
 *   spoor_s3_requests_total, spoor_s3_errors_total
 *   spoor_snapshot_age_seconds               now minus the last snapshot taken or found
 *                                            unchanged by this process (NaN: none yet)
 */

#include <spoor/router.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_int.h"
#include "idx.h"
#include "indexer.h"
#include "snapshot.h"

static const double bucket_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0};
_Static_assert(sizeof bucket_le / sizeof bucket_le[0] ==
                   sizeof((struct api *)0)->duration_buckets /
                       sizeof((struct api *)0)->duration_buckets[0],
               "one counter per bucket");

void api_count(struct api *a, int status, double seconds)
{
    a->requests++;
    a->duration_sum += seconds;
    for (size_t i = 0; i < sizeof bucket_le / sizeof bucket_le[0]; i++)
        if (seconds <= bucket_le[i])
            a->duration_buckets[i]++;
    for (int i = 0; i < API_STATUS_SLOTS; i++) {
        if (a->status[i].code == status || a->status[i].code == 0) {
            a->status[i].code = status;
            a->status[i].n++;
            return;
        }
    }
    /* more distinct statuses than slots: counted in the total only */
}

/* A label value with \, " and newline escaped. */
static void put_label(struct buf *b, const char *s)
{
    buf_append_byte(b, '"');
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            buf_append_byte(b, '\\');
        if (*s == '\n')
            buf_append_str(b, "\\n");
        else
            buf_append_byte(b, *s);
    }
    buf_append_byte(b, '"');
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Epoch seconds of an ISO 8601 UTC time ("YYYY-MM-DDTHH:MM:SS[.f]Z"); -1 if unreadable. */
static double epoch_of(const char *iso)
{
    struct tm tm = {0};
    double frac = 0;
    if (!iso || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                       &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    const char *dot = strchr(iso, '.');
    if (dot)
        frac = strtod(dot, NULL);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + frac;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int skipped_row(void *ud, const char *reason, int64_t count)
{
    struct buf *b = ud;
    buf_append_str(b, "spoor_index_skipped_total{reason=");
    put_label(b, reason);
    buf_printf(b, "} %lld\n", (long long)count);
    return 0;
}

static int lag_row(void *ud, const char *project, const char *last_success)
{
    struct buf *b = ud;
    double t = epoch_of(last_success);
    buf_append_str(b, "spoor_index_lag_seconds{project=");
    put_label(b, project);
    if (t < 0)
        buf_append_str(b, "} NaN\n");
    else
        buf_printf(b, "} %.3f\n", now_s() - t);
    return 0;
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
    head(b, name, "counter", help);
    buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(struct buf *b, const char *name, const char *help, int64_t v)
{
    head(b, name, "gauge", help);
    buf_printf(b, "%s %lld\n", name, (long long)v);
}

void api_metrics(struct api *a, struct http_reply *r)
{
    struct buf b;
    struct spoor_error err;
    buf_init(&b, SIZE_MAX);
    gauge(&b, "spoor_up", "1 while the server answers with an open index.", 1);
    gauge(&b, "spoor_start_time_seconds", "When the server started, in epoch seconds.", a->started);

    head(&b, "spoor_http_requests_total", "counter", "HTTP requests answered, by status.");
    for (int i = 0; i < API_STATUS_SLOTS && a->status[i].code; i++)
        buf_printf(&b, "spoor_http_requests_total{code=\"%d\"} %llu\n", a->status[i].code,
                   (unsigned long long)a->status[i].n);
    head(&b, "spoor_http_request_duration_seconds", "histogram",
         "Time to build an answer (the index reads and the JSON), without sending it.");
    for (size_t i = 0; i < sizeof bucket_le / sizeof bucket_le[0]; i++)
        buf_printf(&b, "spoor_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_le[i],
                   (unsigned long long)a->duration_buckets[i]);
    buf_printf(&b,
               "spoor_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
               "spoor_http_request_duration_seconds_sum %.6f\n"
               "spoor_http_request_duration_seconds_count %llu\n",
               (unsigned long long)a->requests, a->duration_sum, (unsigned long long)a->requests);

    counter(&b, "spoor_http_view_cache_hits_total",
            "Application views answered from a rendering kept for their ETag.", a->view_hits);
    counter(&b, "spoor_http_view_cache_misses_total", "Application views rendered from the index.",
            a->view_misses);

    struct indexer_stats st = {0};
    if (a->ix)
        indexer_stats(a->ix, &st);
    counter(&b, "spoor_indexing_ticks_total", "Indexing ticks run.", st.ticks);
    counter(&b, "spoor_indexing_failures_total", "Project indexing jobs that failed.", st.failures);
    counter(&b, "spoor_indexed_objects_total", "Objects indexed by this process.", st.objects);
    counter(&b, "spoor_indexed_events_total", "Events indexed by this process.", st.events);

    int64_t projects = 0, apps = 0;
    idx_count(a->x, "project", &projects, &err);
    idx_count(a->x, "application", &apps, &err);
    gauge(&b, "spoor_index_projects", "Projects in the index.", projects);
    gauge(&b, "spoor_index_applications", "Applications in the index.", apps);
    head(&b, "spoor_index_skipped_total", "counter",
         "Objects and lines skipped by the indexer, by reason (kept in the index).");
    idx_skipped(a->x, skipped_row, &b, &err);
    head(&b, "spoor_index_lag_seconds", "gauge",
         "Seconds since the project's newest successful indexing job ended.");
    idx_project_freshness(a->x, lag_row, &b, &err);

    uint64_t requests = 0, errors = 0;
    if (a->r)
        spoor_router_stats(a->r, &requests, &errors);
    counter(&b, "spoor_s3_requests_total", "S3 requests sent (retries included).", requests);
    counter(&b, "spoor_s3_errors_total", "S3 requests that failed.", errors);

    int64_t last = a->snap ? snapshot_last_ok(a->snap) : 0;
    head(&b, "spoor_snapshot_age_seconds", "gauge",
         "Seconds since the bucket last held this index (snapshot taken or found unchanged).");
    if (last)
        buf_printf(&b, "spoor_snapshot_age_seconds %.3f\n", now_s() - (double)last);
    else
        buf_append_str(&b, "spoor_snapshot_age_seconds NaN\n");

    api_json(r, 200, &b);
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
