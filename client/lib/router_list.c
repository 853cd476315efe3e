/*
 * router_list.c: ListObjectsV2 through the router.
 *
 * A listing inside one route is translated and passed on: the prefix and StartAfter forward,
 * every key and common prefix of the answer back, and the backend's continuation token wrapped
 * in the router's own ("r1:<route>:<token>", base64url), so callers never see an endpoint's
 * token and a token cannot be replayed against another route.
 *
 * A listing whose range contains other routes (route_nested) is merged, statelessly: each page
 * lists every source from the position after the last entry returned so far, and the router's
 * token ("m1:" + 'k' or 'c' + that entry) is all that is carried between pages.
 *  - with delimiter "/": the enclosing route is listed with the delimiter and each nested
 *    route contributes one synthetic common prefix (its first segment below the prefix),
 *    without a request;
 *  - without a delimiter: the enclosing route and every nested route are listed and merged in
 *    byte order; a key is kept only when route_match sends it to the route it came from, so
 *    keys that a more specific route shadows are left out.
 * A source that returned a truncated page bounds the merge: nothing past its last entry is
 * returned until it has been listed further. If a page ends up empty while sources still have
 * more (everything was shadowed), the next round starts at once from that bound.
 */
#include "router_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_xml.h"
#include "util.h"

#define MAX_SOURCES 32
#define MAX_ROUNDS 10000
/* U+10FFFF: appended to a common prefix, it makes a StartAfter past every key below it. */
#define PAST_PREFIX "\xf4\x8f\xbf\xbf"

/* ---- router tokens --------------------------------------------------------------------- */

static char *b64url_encode(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    int m = EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    while (m > 0 && out[m - 1] == '=')
        m--;
    out[m] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return out;
}

/* NULL when t is not base64url of a NUL-free string. */
static char *b64url_decode(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 8192 || n % 4 == 1)
        return NULL;
    char *in = xmalloc(n + 4);
    for (size_t i = 0; i < n; i++)
        in[i] = t[i] == '-' ? '+' : t[i] == '_' ? '/' : t[i];
    size_t pad = (4 - n % 4) % 4;
    memset(in + n, '=', pad);
    in[n + pad] = '\0';
    char *out = xmalloc(n + 4);
    int m = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)in, (int)(n + pad));
    free(in);
    if (m < 0) {
        free(out);
        return NULL;
    }
    m -= (int)pad;
    out[m] = '\0';
    if ((int)strlen(out) != m) {
        free(out);
        return NULL;
    }
    return out;
}

static int bad_token(struct spoor_error *err, const char *why)
{
    return spoor_error_set(err, SPOOR_E_INVALID,
                           "ListObjectsV2: continuation token no longer valid (%s); list again "
                           "from the start or from a StartAfter key",
                           why);
}

/* ---- one route ------------------------------------------------------------------------- */

/* Reverse-translates the keys and prefixes of l in place; drops what lies outside the route
 * or belongs to another route (shadowed). */
static void list_reverse(struct spoor_router *r, const struct route *route, const char *bucket,
                         struct spoor_s3_list *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->nobjects; i++) {
        struct spoor_s3_object *ob = &l->objects[i];
        char *ck = route_key_reverse(route, ob->key);
        if (!ck || route_match(&r->table, bucket, ck) != route) {
            if (!ck)
                fprintf(stderr, "spoor: route %zu: dropped key \"%s\" outside %s\n", route->index,
                        ob->key, route->to_prefix);
            free(ck);
            free(ob->key), free(ob->etag), free(ob->last_modified), free(ob->storage_class);
            continue;
        }
        free(ob->key);
        ob->key = ck;
        l->objects[k++] = *ob;
    }
    l->nobjects = k;
    k = 0;
    for (size_t i = 0; i < l->nprefixes; i++) {
        char *cp = route_key_reverse(route, l->common_prefixes[i]);
        free(l->common_prefixes[i]);
        if (cp)
            l->common_prefixes[k++] = cp;
    }
    l->nprefixes = k;
}

static void echo_request(struct rop *o, struct spoor_s3_list *l)
{
    const struct spoor_s3_op *op = &o->op;
    free(l->name), free(l->prefix), free(l->delimiter), free(l->start_after);
    free(l->continuation_token);
    l->name = xstrdup(op->bucket);
    l->prefix = xstrdup_or_null(op->prefix);
    l->delimiter = xstrdup_or_null(op->delimiter);
    l->start_after = xstrdup_or_null(op->start_after);
    l->continuation_token = xstrdup_or_null(op->continuation_token);
    l->max_keys = op->max_keys > 0 ? op->max_keys : 1000;
    l->key_count = (int)(l->nobjects + l->nprefixes);
}

static void on_single_list(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                           void *ud)
{
    struct rop *o = ud;
    if (status) {
        rop_set_error(o, status, err);
        rop_finish(o);
        return;
    }
    o->res = *res;
    memset(res, 0, sizeof *res);
    struct spoor_s3_list *l = &o->res.list;
    list_reverse(o->r, o->route, o->op.bucket, l);
    if (l->is_truncated && l->next_continuation_token) {
        size_t n = strlen(l->next_continuation_token) + 32;
        char *raw = xmalloc(n);
        snprintf(raw, n, "r1:%zu:%s", o->route->index, l->next_continuation_token);
        free(l->next_continuation_token);
        l->next_continuation_token = b64url_encode(raw);
        free(raw);
    }
    echo_request(o, l);
    rop_finish(o);
}

static int list_single(struct spoor_router *r, struct rop *o, const char *backend_token,
                       struct spoor_error *err)
{
    const struct spoor_s3_op *op = &o->op;
    struct spoor_s3_op t = *op;
    t.bucket = route_target_bucket(o->route, op->bucket);
    char *prefix = route_key_forward(o->route, op->prefix ? op->prefix : "");
    t.prefix = prefix[0] ? prefix : NULL;
    char *sa = NULL;
    t.start_after = NULL;
    t.continuation_token = backend_token;
    if (!backend_token && op->start_after) {
        enum route_start how = route_start_after(o->route, op->start_after, &sa);
        if (how == ROUTE_START_EMPTY) {
            free(prefix);
            echo_request(o, &o->res.list);
            rop_defer(o);
            return 0;
        }
        t.start_after = sa;
    }
    int rc = rt_backend_submit(o->ep, &t, on_single_list, o, err);
    free(prefix);
    free(sa);
    return rc;
}

/* ---- merged listings ------------------------------------------------------------------- */

struct lsrc {
    const struct route *route;
    struct spoor_s3_list page; /* reverse-translated */
    bool answered;
};

struct lmerge {
    const struct route *nested[MAX_SOURCES];
    size_t nnested;
    struct lsrc src[MAX_SOURCES];
    size_t nsrc;
    int waiting;
    char *after; /* caller entry to continue after, or NULL */
    bool after_is_prefix;
    int max_keys;
    int rounds;
};

struct entry {
    const char *name;
    struct spoor_s3_object *obj; /* NULL for a common prefix */
};

static void merge_free_pages(struct lmerge *m)
{
    for (size_t i = 0; i < m->nsrc; i++) {
        s3_xml_list_cleanup(&m->src[i].page);
        m->src[i].answered = false;
    }
}

static void free_merge(struct rop *o)
{
    struct lmerge *m = o->state;
    merge_free_pages(m);
    free(m->after);
    free(m);
}

static int merge_round(struct spoor_router *r, struct rop *o, struct spoor_error *err);

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Synthetic common prefix of a nested route below the caller's prefix: P + next segment. */
static char *synthetic_prefix(const char *P, const struct route *n)
{
    const char *rest = n->from_prefix + strlen(P);
    const char *slash = strchr(rest, '/');
    size_t len = strlen(P) + (size_t)(slash - rest) + 1;
    return xstrndup(n->from_prefix, len);
}

/* The bound: the smallest last entry over the sources that have more. NULL if none has. */
static const char *merge_bound(const struct lmerge *m, bool *is_prefix)
{
    const char *bound = NULL;
    for (size_t i = 0; i < m->nsrc; i++) {
        const struct spoor_s3_list *l = &m->src[i].page;
        if (!l->is_truncated)
            continue;
        const char *k = l->nobjects ? l->objects[l->nobjects - 1].key : NULL;
        const char *c = l->nprefixes ? l->common_prefixes[l->nprefixes - 1] : NULL;
        bool cp = c && (!k || strcmp(c, k) > 0);
        const char *last = cp ? c : k;
        if (last && (!bound || strcmp(last, bound) < 0)) {
            bound = last;
            *is_prefix = cp;
        }
    }
    return bound;
}

static bool after_position(const struct lmerge *m, const char *name)
{
    if (!m->after)
        return true;
    if (m->after_is_prefix && str_has_prefix(name, m->after))
        return false;
    return strcmp(name, m->after) > 0;
}

/* Collects the candidate entries of this round, sorted, deduplicated, within the bound. */
static size_t merge_collect(struct rop *o, struct lmerge *m, struct entry *out, size_t cap,
                            char **synth, const char *bound)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nsrc; i++) {
        struct spoor_s3_list *l = &m->src[i].page;
        for (size_t j = 0; j < l->nobjects && n < cap; j++)
            out[n++] = (struct entry){l->objects[j].key, &l->objects[j]};
        for (size_t j = 0; j < l->nprefixes && n < cap; j++)
            out[n++] = (struct entry){l->common_prefixes[j], NULL};
    }
    for (size_t i = 0; synth && i < m->nnested && n < cap; i++)
        out[n++] = (struct entry){synth[i], NULL};
    qsort(out, n, sizeof *out, cmp_entry);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!after_position(m, out[i].name) || (bound && strcmp(out[i].name, bound) > 0))
            continue;
        if (k && strcmp(out[k - 1].name, out[i].name) == 0)
            continue;
        out[k++] = out[i];
    }
    return k;
}

static void merge_emit(struct rop *o, struct lmerge *m, struct entry *e, size_t n, bool more)
{
    struct spoor_s3_list *l = &o->res.list;
    l->objects = xcalloc(n ? n : 1, sizeof *l->objects);
    l->common_prefixes = xcalloc(n ? n : 1, sizeof *l->common_prefixes);
    for (size_t i = 0; i < n; i++) {
        if (e[i].obj) {
            l->objects[l->nobjects++] = *e[i].obj;
            memset(e[i].obj, 0, sizeof *e[i].obj); /* moved */
        } else {
            l->common_prefixes[l->nprefixes++] = xstrdup(e[i].name);
        }
    }
    l->is_truncated = more;
    if (more && n) {
        const char *last = e[n - 1].name;
        size_t size = strlen(last) + 8;
        char *raw = xmalloc(size);
        snprintf(raw, size, "m1:%c%s", e[n - 1].obj ? 'k' : 'c', last);
        l->next_continuation_token = b64url_encode(raw);
        free(raw);
    }
    echo_request(o, l);
}

static void merge_finish_round(struct rop *o)
{
    struct lmerge *m = o->state;
    const char *P = o->op.prefix ? o->op.prefix : "";
    bool delim = o->op.delimiter != NULL;
    char **synth = NULL;
    if (delim) {
        synth = xcalloc(m->nnested, sizeof *synth);
        for (size_t i = 0; i < m->nnested; i++)
            synth[i] = synthetic_prefix(P, m->nested[i]);
    }
    size_t cap = m->nnested + 1;
    for (size_t i = 0; i < m->nsrc; i++)
        cap += m->src[i].page.nobjects + m->src[i].page.nprefixes;
    struct entry *e = xcalloc(cap, sizeof *e);
    bool bound_is_prefix = false;
    const char *bound = merge_bound(m, &bound_is_prefix);
    size_t n = merge_collect(o, m, e, cap, synth, bound);
    size_t take = n < (size_t)m->max_keys ? n : (size_t)m->max_keys;
    bool more = n > take || bound != NULL;
    bool again = take == 0 && bound && ++m->rounds < MAX_ROUNDS;
    if (again) {
        /* Everything this round was shadowed: continue from the bound at once. */
        char *next = xstrdup(bound);
        free(m->after);
        m->after = next;
        m->after_is_prefix = bound_is_prefix;
        merge_free_pages(m);
    } else {
        merge_emit(o, m, e, take, more);
    }
    for (size_t i = 0; synth && i < m->nnested; i++)
        free(synth[i]);
    free(synth);
    free(e);
    if (!again) {
        rop_finish(o);
        return;
    }
    int rc = merge_round(o->r, o, &o->err);
    if (rc) {
        o->status = rc;
        rop_finish(o);
    }
}

struct src_ctx {
    struct rop *o;
    size_t index;
};

static void on_source(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                      void *ud)
{
    struct src_ctx *c = ud;
    struct rop *o = c->o;
    struct lmerge *m = o->state;
    struct lsrc *s = &m->src[c->index];
    free(c);
    if (status && !o->status) {
        o->route = s->route; /* name the route whose endpoint failed */
        rop_set_error(o, status, err);
    }
    if (!status) {
        s->page = res->list;
        memset(&res->list, 0, sizeof res->list);
        list_reverse(o->r, s->route, o->op.bucket, &s->page);
    }
    s->answered = true;
    if (--m->waiting > 0)
        return;
    if (o->status)
        rop_finish(o);
    else
        merge_finish_round(o);
}

static int submit_source(struct spoor_router *r, struct rop *o, size_t i, const char *prefix,
                         struct spoor_error *err)
{
    struct lmerge *m = o->state;
    const struct route *route = m->src[i].route;
    struct spoor_s3_op t = o->op;
    t.bucket = route_target_bucket(route, o->op.bucket);
    char *tp = route_key_forward(route, prefix);
    t.prefix = tp[0] ? tp : NULL;
    t.continuation_token = NULL;
    t.start_after = NULL;
    t.max_keys = m->max_keys;
    char *sa = NULL, *pos = NULL;
    if (m->after) {
        size_t n = strlen(m->after) + sizeof PAST_PREFIX;
        pos = xmalloc(n);
        snprintf(pos, n, "%s%s", m->after, m->after_is_prefix ? PAST_PREFIX : "");
        if (route_start_after(route, pos, &sa) == ROUTE_START_EMPTY) {
            free(tp), free(pos);
            m->src[i].answered = true; /* nothing left in this route */
            return 0;
        }
        t.start_after = sa;
    }
    struct src_ctx *c = xmalloc(sizeof *c);
    *c = (struct src_ctx){o, i};
    m->waiting++;
    int rc = rt_backend_submit(rt_endpoint_of(r, route), &t, on_source, c, err);
    if (rc) {
        m->waiting--;
        free(c);
    }
    free(tp), free(sa), free(pos);
    return rc;
}

/* Lists every source from m->after. Sources with nothing left answer at once. */
static int merge_round(struct spoor_router *r, struct rop *o, struct spoor_error *err)
{
    struct lmerge *m = o->state;
    const char *P = o->op.prefix ? o->op.prefix : "";
    m->waiting = 1; /* held until every source is submitted */
    int rc = 0;
    for (size_t i = 0; i < m->nsrc && !rc; i++)
        rc = submit_source(r, o, i, i == 0 ? P : m->src[i].route->from_prefix, err);
    if (rc && m->waiting > 1) {
        /* Some sources are in flight: the last of them finishes with this error. */
        o->status = rc;
        o->err = *err;
        m->waiting--;
        return 0;
    }
    if (rc)
        return rc;
    if (--m->waiting == 0)
        rop_defer_call(o, merge_finish_round); /* not from inside a submit */
    return 0;
}

static int list_merged(struct spoor_router *r, struct rop *o, const char *token_entry,
                       struct spoor_error *err)
{
    const struct spoor_s3_op *op = &o->op;
    struct lmerge *m = xcalloc(1, sizeof *m);
    o->state = m;
    o->free_state = free_merge;
    m->nnested = route_nested(&r->table, op->bucket, op->prefix ? op->prefix : "", o->route,
                              m->nested, MAX_SOURCES - 1);
    m->max_keys = op->max_keys > 0 && op->max_keys < 1000 ? op->max_keys : 1000;
    m->src[m->nsrc++].route = o->route;
    if (!op->delimiter)
        for (size_t i = 0; i < m->nnested; i++)
            m->src[m->nsrc++].route = m->nested[i];
    if (token_entry) {
        m->after_is_prefix = token_entry[0] == 'c';
        m->after = xstrdup(token_entry + 1);
    } else if (op->start_after) {
        m->after = xstrdup(op->start_after);
    }
    return merge_round(r, o, err);
}

/* ---- entry ----------------------------------------------------------------------------- */

int rt_list_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err)
{
    const struct spoor_s3_op *op = &o->op;
    const char *P = op->prefix ? op->prefix : "";
    o->route = route_match(&r->table, op->bucket, P);
    o->ep = rt_endpoint_of(r, o->route);
    const struct route *nested[1];
    bool spans = route_nested(&r->table, op->bucket, P, o->route, nested, 1) > 0;
    if (spans && op->delimiter && strcmp(op->delimiter, "/") != 0)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "ListObjectsV2 s3://%s/%s with delimiter \"%s\" spans several "
                               "routes; only \"/\" or no delimiter can be merged across routes",
                               op->bucket, P, op->delimiter);
    char *raw = NULL;
    if (op->continuation_token && !(raw = b64url_decode(op->continuation_token)))
        return bad_token(err, "not a token of this router");
    int rc;
    if (!raw) {
        rc = spans ? list_merged(r, o, NULL, err) : list_single(r, o, NULL, err);
    } else if (spans && str_has_prefix(raw, "m1:") && (raw[3] == 'k' || raw[3] == 'c')) {
        rc = list_merged(r, o, raw + 3, err);
    } else if (!spans && str_has_prefix(raw, "r1:")) {
        char *end;
        unsigned long idx = strtoul(raw + 3, &end, 10);
        rc = *end == ':' && idx == o->route->index ? list_single(r, o, end + 1, err)
                                                   : bad_token(err, "the routes have changed");
    } else {
        rc = bad_token(err, "it belongs to a listing of another shape");
    }
    free(raw);
    return rc;
}
