/*
 * steps.h: assemble the "steps" array of Burr's ApplicationLogs from log lines (burr-compat.md
 * sections 2.3 and 2.4), without Burr's span ordering bug. Pure: no I/O, no clock.
 */
#ifndef SPOOR_STEPS_H
#define SPOOR_STEPS_H

#include <stddef.h>

#include "buf.h"

/* One indexed event (borrowed: valid for the call), as the index keeps it: the line verbatim
 * (valid JSON: ingest checked it) and the fields ingest extracted from it. Lines are given in
 * index order (object key, then line number); that order is "line order" below. */
struct steps_line {
    const char *raw;
    size_t len;
    const char *type;    /* "begin_entry", "end_span", ...; other types are ignored */
    long long seq;       /* sequence_id (entries) or action_sequence_id (the others) */
    const char *span_id; /* begin_span/end_span: the span id (NULL: the line is ignored) */
};

/*
 * Appends to out the steps built from lines[0..n) as compact JSON text:
 *   [{"step_start_log":{..},"step_end_log":{..}|null,
 *     "spans":[{"begin_entry":{..},"end_entry":{..}|null},..],
 *     "attributes":[..],"streaming_events":[..]},..]
 * Rules:
 * - Lines of other types than begin_entry, end_entry, begin_span, end_span, attribute,
 *   begin_stream, first_item_stream and end_stream are ignored, and span lines without a
 *   span id.
 * - Per sequence id the last begin_entry and the last end_entry win. Only steps with a
 *   begin_entry are output, sorted by sequence id ascending.
 * - begin_span and end_span lines with the same span_id are merged whatever their order (the
 *   last of each wins); a span without a begin_span is dropped. A span belongs to the step of
 *   its begin's action_sequence_id; within a step spans are ordered by their first begin_span.
 * - Attributes and stream events keep line order within their step.
 * - Each event object is its line, verbatim: nothing is parsed or re-serialized here, so numbers
 *   and strings come back exactly as the application wrote them.
 * Returns 0, or SPOOR_E_TOO_LARGE past out's ceiling (out then as it was before the call).
 */
int steps_build(const struct steps_line *lines, size_t n, struct buf *out);

#endif
