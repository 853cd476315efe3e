/*
 * steps.c: log lines to Burr's Step list (see steps.h; burr-compat.md 2.4).
 *
 * The index has already parsed every line (type, sequence id, span id), so nothing is parsed
 * here and each event is copied out verbatim. Everything is done by sorting rather than by lookup
 * tables, so the cost stays O(n log n) whatever the input: span events are sorted by
 * (span_id, line) and folded into one span per id, spans by (step, first begin), and the other
 * events by (step, line) and walked step by step, emitting as it goes. It deliberately does
 * not copy Burr's "begin_span replaces the record" rule, which loses an end read before its
 * begin.
 *
 * Invariants: events and spans only borrow the caller's lines; out is truncated back to its
 * starting length on any failure.
 */
#include "steps.h"

#include <spoor/error.h>

#include "util.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum kind { K_BEGIN_ENTRY, K_END_ENTRY, K_BEGIN_SPAN, K_END_SPAN, K_ATTRIBUTE, K_STREAM };

struct ev {
    enum kind kind;
    long long seq;
    const char *span_id; /* span events only */
    size_t idx;          /* line order */
    const struct steps_line *l;
};

struct span {
    long long seq; /* of the (last) begin_span */
    size_t first_idx;
    const struct steps_line *begin, *end;
};

static const struct {
    const char *type;
    enum kind kind;
} kinds[] = {
    {"begin_entry", K_BEGIN_ENTRY},  {"end_entry", K_END_ENTRY}, {"begin_span", K_BEGIN_SPAN},
    {"end_span", K_END_SPAN},        {"attribute", K_ATTRIBUTE}, {"begin_stream", K_STREAM},
    {"first_item_stream", K_STREAM}, {"end_stream", K_STREAM},
};

/* Classifies one line into e; false if the line is to be ignored. */
static bool ev_parse(const struct steps_line *l, size_t idx, struct ev *e)
{
    size_t k = 0;
    while (l->type && k < sizeof kinds / sizeof kinds[0] && strcmp(l->type, kinds[k].type) != 0)
        k++;
    if (!l->type || k == sizeof kinds / sizeof kinds[0])
        return false;
    e->kind = kinds[k].kind;
    e->span_id = l->span_id;
    if ((e->kind == K_BEGIN_SPAN || e->kind == K_END_SPAN) && !e->span_id)
        return false;
    e->seq = l->seq;
    e->idx = idx;
    e->l = l;
    return true;
}

static int cmp_size(size_t a, size_t b)
{
    return (a > b) - (a < b);
}

static int cmp_ll(long long a, long long b)
{
    return (a > b) - (a < b);
}

static int cmp_ev_step(const void *pa, const void *pb)
{
    const struct ev *a = pa, *b = pb;
    int c = cmp_ll(a->seq, b->seq);
    return c ? c : cmp_size(a->idx, b->idx);
}

static int cmp_ev_span(const void *pa, const void *pb)
{
    const struct ev *a = pa, *b = pb;
    int c = strcmp(a->span_id, b->span_id);
    return c ? c : cmp_size(a->idx, b->idx);
}

static int cmp_span(const void *pa, const void *pb)
{
    const struct span *a = pa, *b = pb;
    int c = cmp_ll(a->seq, b->seq);
    return c ? c : cmp_size(a->first_idx, b->first_idx);
}

/* Folds span events (sorted by span_id, line) into spans sorted by (step, first begin).
 * Returns the number of spans written to sp (room for n). */
static size_t spans_fold(struct ev *ev, size_t n, struct span *sp)
{
    size_t ns = 0;
    for (size_t i = 0; i < n;) {
        struct span s = {0, 0, NULL, NULL};
        size_t g = i;
        for (; g < n && strcmp(ev[g].span_id, ev[i].span_id) == 0; g++) {
            if (ev[g].kind == K_END_SPAN) {
                s.end = ev[g].l;
                continue;
            }
            if (!s.begin)
                s.first_idx = ev[g].idx;
            s.begin = ev[g].l;
            s.seq = ev[g].seq;
        }
        if (s.begin) /* an end without a begin is an orphan: dropped */
            sp[ns++] = s;
        i = g;
    }
    qsort(sp, ns, sizeof *sp, cmp_span);
    return ns;
}

/* Appends the line verbatim, or null. */
static int put_line(struct buf *out, const struct steps_line *l)
{
    return l ? buf_append(out, l->raw, l->len) : buf_append_str(out, "null");
}

/* Appends ,"name":[the events of g[0..n) of kind k, in order]. */
static int put_list(struct buf *out, const char *name, const struct ev *g, size_t n, enum kind k)
{
    int rc = buf_printf(out, ",\"%s\":[", name);
    bool first = true;
    for (size_t i = 0; i < n && !rc; i++) {
        if (g[i].kind != k)
            continue;
        rc = first ? 0 : buf_append_byte(out, ',');
        first = false;
        if (!rc)
            rc = put_line(out, g[i].l);
    }
    return rc ? rc : buf_append_byte(out, ']');
}

/* Appends ,"spans":[..] for the spans sp[0..n) (all of this step). */
static int put_spans(struct buf *out, const struct span *sp, size_t n)
{
    int rc = buf_append_str(out, ",\"spans\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = buf_printf(out, "%s{\"begin_entry\":", i ? "," : "");
        if (!rc)
            rc = put_line(out, sp[i].begin);
        if (!rc)
            rc = buf_append_str(out, ",\"end_entry\":");
        if (!rc)
            rc = put_line(out, sp[i].end);
        if (!rc)
            rc = buf_append_byte(out, '}');
    }
    return rc ? rc : buf_append_byte(out, ']');
}

/* Appends one step for the events g[0..n) of one sequence id (sorted by line) and its spans. */
static int put_step(struct buf *out, const struct ev *g, size_t n, const struct span *sp,
                    size_t nsp)
{
    const struct steps_line *begin = NULL, *end = NULL;
    for (size_t i = 0; i < n; i++) {
        if (g[i].kind == K_BEGIN_ENTRY)
            begin = g[i].l;
        else if (g[i].kind == K_END_ENTRY)
            end = g[i].l;
    }
    int rc = buf_append_str(out, "{\"step_start_log\":");
    if (!rc)
        rc = put_line(out, begin);
    if (!rc)
        rc = buf_append_str(out, ",\"step_end_log\":");
    if (!rc)
        rc = put_line(out, end);
    if (!rc)
        rc = put_spans(out, sp, nsp);
    if (!rc)
        rc = put_list(out, "attributes", g, n, K_ATTRIBUTE);
    if (!rc)
        rc = put_list(out, "streaming_events", g, n, K_STREAM);
    return rc ? rc : buf_append_byte(out, '}');
}

static bool has_begin(const struct ev *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g[i].kind == K_BEGIN_ENTRY)
            return true;
    return false;
}

/* Walks the step events (sorted by step, line) and the spans (sorted by step) together. */
static int put_steps(struct buf *out, const struct ev *ev, size_t n, const struct span *sp,
                     size_t nsp)
{
    int rc = buf_append_byte(out, '[');
    bool first = true;
    size_t s = 0;
    for (size_t i = 0; i < n && !rc;) {
        size_t g = i;
        while (g < n && ev[g].seq == ev[i].seq)
            g++;
        while (s < nsp && sp[s].seq < ev[i].seq)
            s++; /* spans of a sequence id without any step record are dropped */
        size_t e = s;
        while (e < nsp && sp[e].seq == ev[i].seq)
            e++;
        if (has_begin(ev + i, g - i)) {
            rc = first ? 0 : buf_append_byte(out, ',');
            first = false;
            if (!rc)
                rc = put_step(out, ev + i, g - i, sp + s, e - s);
        }
        i = g;
        s = e;
    }
    return rc ? rc : buf_append_byte(out, ']');
}

int steps_build(const struct steps_line *lines, size_t n, struct buf *out)
{
    size_t start = out->len, nstep = 0, nspan = 0;
    /* step events fill ev from the front, span events from the back */
    struct ev *ev = xmalloc((n ? n : 1) * sizeof *ev);
    struct span *sp = xmalloc((n ? n : 1) * sizeof *sp);
    for (size_t i = 0; i < n; i++) {
        struct ev e;
        if (!ev_parse(&lines[i], i, &e))
            continue;
        if (e.kind == K_BEGIN_SPAN || e.kind == K_END_SPAN)
            ev[n - ++nspan] = e;
        else
            ev[nstep++] = e;
    }
    struct ev *spev = ev + n - nspan;
    qsort(ev, nstep, sizeof *ev, cmp_ev_step);
    qsort(spev, nspan, sizeof *spev, cmp_ev_span);
    size_t nsp = spans_fold(spev, nspan, sp);
    int rc = put_steps(out, ev, nstep, sp, nsp);
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    free(sp);
    free(ev);
    return rc;
}
