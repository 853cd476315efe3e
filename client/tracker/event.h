/*
 * event.h: Burr's tracking formats, written byte for byte (../shared/spec/burr-compat.md
 * sections 1 and 2). Pure functions: the caller passes the times (nanoseconds since the epoch,
 * CLOCK_REALTIME) and the random bytes, so everything here is testable against golden lines.
 *
 * Lines are compact JSON with "type" first and the fields in Burr's declaration order:
 *   begin_entry       start_time action inputs sequence_id
 *   end_entry         end_time action result exception state sequence_id
 *   begin_span        start_time action_sequence_id span_id span_name parent_span_id
 *                     span_dependencies
 *   end_span          end_time action_sequence_id span_id
 *   attribute         key action_sequence_id span_id value tags time_logged
 *   begin_stream      action_sequence_id span_id stream_init_time
 *   first_item_stream action_sequence_id span_id first_item_time
 *   end_stream        action_sequence_id span_id end_time items_streamed
 * Times: entries and spans use the naive local time of the process ("2024-08-27T11:59:58.569646",
 * no zone); attribute and stream events use UTC with "Z". Six fractional digits, omitted
 * entirely when the microsecond is 0 (pydantic). Payloads (inputs, result, state, value, tags)
 * are re-emitted in JSON_STYLE_COMPACT; NULL optional fields are written as null.
 */
#ifndef SPOOR_EVENT_H
#define SPOOR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

enum ev_type {
    EV_BEGIN_ENTRY,
    EV_END_ENTRY,
    EV_BEGIN_SPAN,
    EV_END_SPAN,
    EV_ATTRIBUTE,
    EV_BEGIN_STREAM,
    EV_FIRST_ITEM_STREAM,
    EV_END_STREAM,
};

struct ev {
    enum ev_type type;
    int64_t time_ns;            /* when the event happened */
    int64_t sequence_id;        /* sequence_id of entries, action_sequence_id of the others */
    const char *action;         /* entries */
    const char *inputs;         /* begin_entry: JSON object */
    const char *result;         /* end_entry: JSON object, or NULL for null */
    const char *exception;      /* end_entry: text, or NULL for null */
    const char *state;          /* end_entry: JSON object */
    const char *span_id;        /* spans (required); attribute and stream events (NULL for null) */
    const char *span_name;      /* begin_span */
    const char *parent_span_id; /* begin_span, NULL for null */
    const char *deps; /* begin_span: dependencies as ndeps NUL-terminated strings, packed */
    size_t ndeps;
    const char *key;        /* attribute */
    const char *value;      /* attribute: any JSON value */
    const char *tags;       /* attribute: JSON object of strings, NULL for {} */
    int64_t items_streamed; /* end_stream */
};

/* Appends the event's line (no newline) to out. Payloads must have passed json_check.
 * SPOOR_E_INVALID when a required field is NULL (action, inputs, state, span_id of spans,
 * span_name, key, value; deps when ndeps > 0), a payload is not of its field's kind, a string
 * is not valid UTF-8 or the type is unknown; SPOOR_E_TOO_LARGE past out's ceiling. On any
 * error out is left as it was (this holds for every function below that appends). */
int ev_line(const struct ev *e, struct buf *out);

/* pydantic datetimes: naive local time, and UTC with "Z". */
void ev_time_local(int64_t ns, char out[40]);
void ev_time_utc(int64_t ns, char out[40]);

struct ev_pointer {
    const char *app_id;
    const char *partition_key; /* NULL for null */
    int64_t sequence_id;
    bool has_sequence_id; /* false for null */
};

/* The S3 key of an object written at time ns (UTC, Burr 0.40's utcnow().isoformat() slices):
 * data/<project>/YYYY/MM/DD/HH/MM:SS.ffffff/<partition_key or __none__>/<app_id>/<filename>;
 * the minute segment is MM:SS when the microsecond is 0. NULL or "" partition_key: __none__.
 * SPOOR_E_INVALID when project, app_id or filename is NULL, empty, ".", "..", not UTF-8 or
 * holds a '/', or a given partition key fails ev_partition_key_valid: the layout must keep its
 * ten '/'-separated parts. */
int ev_object_key(struct buf *out, const char *project, int64_t ns, const char *partition_key,
                  const char *app_id, const char *filename);

/* "<uuid4>__log.jsonl" from 16 random bytes. */
void ev_log_filename(const unsigned char random16[16], char out[64]);
/* A version-4 UUID in canonical lower-case form from 16 random bytes. */
void ev_uuid4(const unsigned char random16[16], char out[37]);

/* ApplicationMetadataModel (COMPACT for S3's metadata.json, PYTHON for the local one):
 * {"type":"application_metadata","partition_key":..,
 * "parent_pointer":..,"spawning_parent_pointer":..} with pointers as PointerModel
 * {"type":"pointer_data","app_id":..,"sequence_id":..,"partition_key":..}, in style. */
int ev_metadata_json(struct buf *out, const char *partition_key, const struct ev_pointer *parent,
                     const struct ev_pointer *spawning, enum json_style style);

/* The S3 user-metadata value Burr writes for a pointer: Python's json.dumps of its
 * ParentPointer dataclass, {"app_id": "x", "partition_key": null, "sequence_id": 5}, or the
 * literal None when p is NULL. */
int ev_pointer_header(struct buf *out, const struct ev_pointer *p);

/* One children.jsonl line (compact, no newline): ChildApplicationModel for child app_id,
 * event "fork" or "spawn_start" at time ns (naive local), sequence_id of the parent (pointer's,
 * or null). The child pointer has sequence_id and partition_key null, as Burr writes it. */
int ev_child_line(struct buf *out, const char *child_app_id, int64_t ns, const char *event_type,
                  const struct ev_pointer *parent);

/* Burr's id pattern ^[a-zA-Z0-9_\-:]+$ (projects, app ids). Unlike Python's re, a trailing
 * newline does not match. NULL is false. */
bool ev_id_valid(const char *s);
/* A partition key that keeps the key layout intact: 1..256 bytes of valid UTF-8, no '/', no
 * control characters (C0, DEL and the C1 range U+0080..U+009F), not "." or "..". */
bool ev_partition_key_valid(const char *s);

#endif
