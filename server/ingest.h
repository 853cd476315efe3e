/*
 * ingest.h: turns the bodies of the objects Burr writes (burr-compat.md 1.4, 2.1, 2.2) into what
 * the index stores: a log object's lines as typed events, a metadata.json's partition key and
 * pointers, and a sanity check of graph.json.
 *
 * Pure: functions over bytes, no I/O. A bad log line is skipped and counted, never fatal; a bad
 * metadata or graph body is refused with a static reason.
 */
#ifndef SPOOR_SERVER_INGEST_H
#define SPOOR_SERVER_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One kept log line. */
struct ingest_event {
    const char *raw;      /* the line verbatim, borrowed from the body: no '\n', no trailing '\r' */
    size_t raw_len;       /* bytes of raw */
    int line_no;          /* 1-based line number in the object (blank and skipped lines count) */
    char type[24];        /* "begin_entry", "end_span", ... (always one of the known types) */
    bool has_sequence_id; /* always true for a kept line: every known type needs one */
    int64_t sequence_id;  /* sequence_id (entries), or action_sequence_id (span/attribute/stream) */
    char *span_id;        /* new or NULL: the line's span_id when it is a string */
    char *time;           /* new or NULL: the type's time field as written, when it is a string:
                           * start_time, end_time, time_logged, stream_init_time, first_item_time or
                           * suspend_time */
};

/* Skipped lines, counted under the first reason that applied. Checked in the order too_long,
 * invalid_utf8, bad_json, unknown_type, missing_field. */
struct ingest_skips {
    unsigned invalid_utf8;  /* not valid UTF-8 (overlongs, surrogates, > U+10FFFF refused) */
    unsigned bad_json;      /* not exactly one JSON object (truncated, an array, trailing data) */
    unsigned too_long;      /* longer than max_line_bytes (without the line ending) */
    unsigned unknown_type;  /* "type" absent, not a string, or not a known type */
    unsigned missing_field; /* sequence id absent or not an integer; begin_span/end_span
                             * without a string span_id */
};

struct ingest_log {
    struct ingest_event *events; /* new: n events in line order; free with ingest_log_cleanup */
    size_t n;
    struct ingest_skips skipped;
};

/*
 * Splits body[0..len) into lines at '\n' and keeps the lines that are events. A '\r' before the
 * '\n' is dropped; a final newline ends the last line rather than starting an empty one; empty
 * or whitespace-only lines are ignored without being counted. Known types: begin_entry,
 * end_entry, suspend_entry (sequence id from "sequence_id"), begin_span, end_span, attribute,
 * begin_stream, first_item_stream, end_stream (from "action_sequence_id"). Unknown types are
 * skipped as Burr's readers ignore them (application_metadata lines from the metadata-as-log
 * bug). A line is also skipped when it is longer than max_line_bytes, not valid UTF-8, not a
 * JSON object, or lacks the fields its type needs (see struct ingest_skips).
 * *out is always initialised (and empty on error). Returns 0, even when every line was skipped,
 * or -ENOMEM. The events' raw views are borrowed: valid while body is.
 */
int ingest_parse_log(const char *body, size_t len, size_t max_line_bytes, struct ingest_log *out);
/* Frees what ingest_parse_log allocated and empties l; safe on a zeroed or cleaned struct. */
void ingest_log_cleanup(struct ingest_log *l);

/* A PointerModel: the parent or spawning parent of an application. */
struct ingest_pointer {
    bool present;         /* false when the pointer was null or absent */
    char *app_id;         /* new when present */
    char *partition_key;  /* new or NULL (null or absent) */
    bool has_sequence_id; /* false when sequence_id was null or absent */
    int64_t sequence_id;
};

struct ingest_metadata {
    char *partition_key;            /* new or NULL (null or absent) */
    struct ingest_pointer parent;   /* "parent_pointer" */
    struct ingest_pointer spawning; /* "spawning_parent_pointer" */
};

/*
 * Parses a metadata.json body[0..len) (ApplicationMetadataModel): a JSON object whose "type",
 * when present, is a string; partition_key a string or null; parent_pointer and
 * spawning_parent_pointer null or an object with a string app_id, an integer or null
 * sequence_id, a string or null partition_key and an optional string type. Absent fields count
 * as null; unknown fields are ignored. *out is always initialised (empty on error). Returns 0,
 * -ENOMEM, or SPOOR_E_INVALID with *why (if why is not NULL) set to a static reason.
 */
int ingest_parse_metadata(const char *body, size_t len, struct ingest_metadata *out,
                          const char **why);
/* Frees what ingest_parse_metadata allocated and empties m; safe on a zeroed struct. */
void ingest_metadata_cleanup(struct ingest_metadata *m);

/*
 * Checks that a graph.json body[0..len) is at most max_bytes and is one JSON object (the
 * ApplicationModel; its fields are not checked). Returns 0, -ENOMEM, or SPOOR_E_INVALID with
 * *why (if why is not NULL) set to a static reason.
 */
int ingest_check_graph(const char *body, size_t len, size_t max_bytes, const char **why);

/* children.jsonl: the lines that are ChildApplicationModel objects ("type":
 * "child_application_data" with a "child" object), as views into body (new array of n;
 * free() it); other lines are counted in *skipped. Returns 0 or -ENOMEM. */
struct ingest_line {
    const char *p;
    size_t len;
};
int ingest_parse_children(const char *body, size_t len, struct ingest_line **lines, size_t *n,
                          unsigned *skipped);

#endif
