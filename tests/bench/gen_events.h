/*
 * gen_events.h: tracking objects as the tracker writes them, for the benchmarks: bodies of
 * Burr's log lines (steps of begin_entry, begin_span, attribute, end_span and end_entry, about
 * 220 bytes a line) and keys in Burr's layout.
 */
#ifndef SPOOR_BENCH_GEN_EVENTS_H
#define SPOOR_BENCH_GEN_EVENTS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The body of object o of an application: events lines, steps of 5 lines each. */
static inline char *gen_object_body(int o, int events)
{
    struct buf b;
    buf_init(&b, SIZE_MAX);
    for (int i = 0; i < events; i++) {
        int seq = o * events / 5 + i / 5;
        if (i)
            buf_append_byte(&b, '\n');
        switch (i % 5) {
        case 0:
            buf_printf(&b,
                       "{\"type\":\"begin_entry\",\"start_time\":\"2026-11-21T10:00:00.000001\","
                       "\"action\":\"counter\",\"inputs\":{\"n\":%d},\"sequence_id\":%d}",
                       i, seq);
            break;
        case 1:
            buf_printf(&b,
                       "{\"type\":\"begin_span\",\"start_time\":\"2026-11-21T10:00:00.000002\","
                       "\"action_sequence_id\":%d,\"span_id\":\"%d:0\",\"span_name\":\"work\","
                       "\"parent_span_id\":null,\"span_dependencies\":[]}",
                       seq, seq);
            break;
        case 2:
            buf_printf(&b,
                       "{\"type\":\"attribute\",\"key\":\"tokens\",\"action_sequence_id\":%d,"
                       "\"span_id\":\"%d:0\",\"value\":%d,\"tags\":{},\"time_logged\":"
                       "\"2026-11-21T10:00:00.000003Z\"}",
                       seq, seq, i);
            break;
        case 3:
            buf_printf(&b,
                       "{\"type\":\"end_span\",\"end_time\":\"2026-11-21T10:00:00.000004\","
                       "\"action_sequence_id\":%d,\"span_id\":\"%d:0\"}",
                       seq, seq);
            break;
        default:
            buf_printf(&b,
                       "{\"type\":\"end_entry\",\"end_time\":\"2026-11-21T10:00:00.000005\","
                       "\"action\":\"counter\",\"result\":{\"counter\":%d},\"exception\":null,"
                       "\"state\":{\"counter\":%d,\"count_to\":1000,\"__SEQUENCE_ID\":%d},"
                       "\"sequence_id\":%d}",
                       seq, seq, seq, seq);
        }
    }
    return buf_take(&b, NULL);
}

/* The key of object i when objects go round-robin over apps applications of project. */
static inline void gen_object_key(char *out, size_t size, const char *project, int i, int apps)
{
    int o = i / apps;
    snprintf(out, size, "data/%s/2026/11/21/10/%02d:%02d.%06d/__none__/app-%04d/%08d__log.jsonl",
             project, o / 60 % 60, o % 60, i % 1000000, i % apps, i);
}

/* The integer after option name in argv[first..argc), or def. */
static inline int gen_arg(int argc, char **argv, int first, const char *name, int def)
{
    for (int i = first; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return atoi(argv[i + 1]);
    return def;
}

#endif
