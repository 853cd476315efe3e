/*
 * steps.h: assemble the "steps" array of Burr's ApplicationLogs from log lines (burr-compat.md
 * sections 2.3 and 2.4), without Burr's span ordering bug. Pure: no I/O, no clock.
 */
#ifndef SPOOR_STEPS_H
#define SPOOR_STEPS_H

#include <stddef.h>

#include "buf.h"

/* One event line (borrowed: valid for the call). Lines are given in index order (object key,
 * then line number); that order is "line order" below. */
struct steps_line {
    const char *raw;
    size_t len;
};

/*
 * Appends to out the steps built from lines[0..n) as compact JSON text:
 *   [{"step_start_log":{..},"step_end_log":{..}|null,
 *     "spans":[{"begin_entry":{..},"end_entry":{..}|null},..],
 *     "attributes":[..],"streaming_events":[..]},..]
 * Rules:
 * - A line that is not a JSON object, has no known "type" (begin_entry, end_entry, begin_span,
 *   end_span, attribute, begin_stream, first_item_stream, end_stream), lacks an integer sequence
 *   id ("sequence_id" for entries, "action_sequence_id" otherwise) or, for spans, a string
 *   "span_id", is ignored.
 * - Per sequence id the last begin_entry and the last end_entry win. Only steps with a
 *   begin_entry are output, sorted by sequence id ascending.
 * - begin_span and end_span lines with the same span_id are merged whatever their order (the
 *   last of each wins); a span without a begin_span is dropped. A span belongs to the step of
 *   its begin's action_sequence_id; within a step spans are ordered by their first begin_span.
 * - Attributes and stream events keep line order within their step.
 * - Each event object is its line re-serialized by jansson (JSON_COMPACT | JSON_PRESERVE_ORDER):
 *   field order is kept, whitespace dropped.
 * Returns 0, or SPOOR_E_TOO_LARGE past out's ceiling (out then as it was before the call).
 */
int steps_build(const struct steps_line *lines, size_t n, struct buf *out);

#endif
