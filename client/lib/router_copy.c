/*
 * router_copy.c: the router's two-route operations.
 *
 * CopyObject: source and destination are routed separately. On one endpoint the copy stays
 * server-side (the source translated into x-amz-copy-source). Across endpoints it is streamed:
 *
 *   HEAD source --small--> GET (If-Match) into memory --> PUT --> done
 *        '------large--> CREATE multipart --> [GET range (If-Match) --> UPLOAD PART] x N,
 *                        COPY_PARALLEL at a time --> COMPLETE --> done (ABORT on failure)
 *
 * so memory stays at most COPY_PARALLEL parts, whatever the object's size. User metadata and
 * content type travel with the object unless the caller replaces them.
 *
 * DeleteObjects: keys are grouped by route; each group goes to its endpoint with translated
 * keys, and the Deleted and Error entries come back with the caller's keys. Keys on read-only
 * routes are reported as AccessDenied without a request.
 */
#include "router_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_op.h"
#include "util.h"

#define COPY_SINGLE_MAX (16 * 1024 * 1024)
#define COPY_PART_BYTES (8 * 1024 * 1024)
#define COPY_PARALLEL 2

struct xcopy {
    struct rt_endpoint *src_ep, *dst_ep;
    char *src_bucket, *src_key, *dst_bucket, *dst_key; /* translated */
    int64_t size;
    char *etag;
    char *content_type;
    struct spoor_s3_meta *meta;
    size_t nmeta;
    char *upload_id;
    char *body; /* a small object between its GET and its PUT */
    struct spoor_s3_part *parts;
    int nparts, next_part, in_flight;
    bool failed;
};

struct part_ctx {
    struct rop *o;
    int index;
    char *data; /* the part's bytes between its GET and its UPLOAD PART */
};

static void xcopy_free(struct rop *o)
{
    struct xcopy *x = o->state;
    free(x->src_bucket), free(x->src_key), free(x->dst_bucket), free(x->dst_key);
    free(x->etag), free(x->content_type), free(x->upload_id), free(x->body);
    for (size_t i = 0; i < x->nmeta; i++) {
        free((char *)x->meta[i].name);
        free((char *)x->meta[i].value);
    }
    free(x->meta);
    for (int i = 0; i < x->nparts; i++)
        free((char *)x->parts[i].etag);
    free(x->parts);
    free(x);
}

static void fail(struct rop *o, int status, const struct spoor_error *err)
{
    struct xcopy *x = o->state;
    if (!x->failed)
        rop_set_error(o, status, err);
    x->failed = true;
}

/* Submits t to ep; a refusal is recorded as the failure and reported by the caller. */
static bool send_op(struct rop *o, struct rt_endpoint *ep, const struct spoor_s3_op *t,
                    spoor_s3_cb cb, void *ud)
{
    struct spoor_error e;
    if (rt_backend_submit(ep, t, cb, ud, &e) == 0)
        return true;
    fail(o, e.code, &e);
    return false;
}

static void on_done(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct rop *o = ud;
    if (status)
        fail(o, status, err);
    else {
        o->res = *res;
        memset(res, 0, sizeof *res);
    }
    rop_finish(o);
}

/* ---- large objects: multipart with ranged GETs ----------------------------------------- */

static void on_aborted(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                       void *ud)
{
    rop_finish(ud);
}

static void abort_upload(struct rop *o)
{
    struct xcopy *x = o->state;
    struct spoor_s3_op t = {.kind = SPOOR_S3_ABORT_MULTIPART,
                            .bucket = x->dst_bucket,
                            .key = x->dst_key,
                            .upload_id = x->upload_id};
    if (!send_op(o, x->dst_ep, &t, on_aborted, o))
        rop_finish(o);
}

static void pump(struct rop *o);

static void on_part_uploaded(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                             void *ud)
{
    struct part_ctx *p = ud;
    struct rop *o = p->o;
    struct xcopy *x = o->state;
    x->in_flight--;
    if (status)
        fail(o, status, err);
    else
        x->parts[p->index].etag = xstrdup(res->etag ? res->etag : "");
    free(p->data);
    free(p);
    pump(o);
}

static void on_part_fetched(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                            void *ud)
{
    struct part_ctx *p = ud;
    struct rop *o = p->o;
    struct xcopy *x = o->state;
    if (status || x->failed) {
        if (status)
            fail(o, status, err);
        x->in_flight--;
        free(p);
        pump(o);
        return;
    }
    p->data = res->body;
    res->body = NULL;
    struct spoor_s3_op t = {.kind = SPOOR_S3_UPLOAD_PART,
                            .bucket = x->dst_bucket,
                            .key = x->dst_key,
                            .upload_id = x->upload_id,
                            .part_number = p->index + 1,
                            .body = {.data = p->data, .len = res->body_len}};
    if (!send_op(o, x->dst_ep, &t, on_part_uploaded, p)) {
        x->in_flight--;
        free(p->data);
        free(p);
        pump(o);
    }
}

static void fetch_part(struct rop *o, int i)
{
    struct xcopy *x = o->state;
    struct part_ctx *p = xcalloc(1, sizeof *p);
    p->o = o;
    p->index = i;
    int64_t first = (int64_t)i * COPY_PART_BYTES;
    int64_t last = first + COPY_PART_BYTES > x->size ? x->size - 1 : first + COPY_PART_BYTES - 1;
    struct spoor_s3_op t = {.kind = SPOOR_S3_GET_OBJECT,
                            .bucket = x->src_bucket,
                            .key = x->src_key,
                            .has_range = true,
                            .range_first = first,
                            .range_last = last,
                            .if_match = x->etag,
                            .sink = {.max_bytes = COPY_PART_BYTES}};
    x->in_flight++;
    if (!send_op(o, x->src_ep, &t, on_part_fetched, p)) {
        x->in_flight--;
        free(p);
    }
}

static void on_completed(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                         void *ud)
{
    struct rop *o = ud;
    if (status) {
        fail(o, status, err);
        abort_upload(o);
        return;
    }
    o->res = *res;
    memset(res, 0, sizeof *res);
    rop_finish(o);
}

/* Keeps COPY_PARALLEL parts moving; completes, or aborts once nothing is in flight. */
static void pump(struct rop *o)
{
    struct xcopy *x = o->state;
    while (!x->failed && x->next_part < x->nparts && x->in_flight < COPY_PARALLEL)
        fetch_part(o, x->next_part++);
    if (x->in_flight > 0)
        return;
    if (x->failed) {
        abort_upload(o);
        return;
    }
    struct spoor_s3_op t = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                            .bucket = x->dst_bucket,
                            .key = x->dst_key,
                            .upload_id = x->upload_id,
                            .parts = x->parts,
                            .nparts = (size_t)x->nparts};
    if (!send_op(o, x->dst_ep, &t, on_completed, o))
        abort_upload(o);
}

static void on_created(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                       void *ud)
{
    struct rop *o = ud;
    struct xcopy *x = o->state;
    if (status) {
        fail(o, status, err);
        rop_finish(o);
        return;
    }
    x->upload_id = res->upload_id;
    res->upload_id = NULL;
    x->nparts = (int)((x->size + COPY_PART_BYTES - 1) / COPY_PART_BYTES);
    x->parts = xcalloc((size_t)x->nparts, sizeof *x->parts);
    for (int i = 0; i < x->nparts; i++)
        x->parts[i].part_number = i + 1;
    pump(o);
}

/* ---- small objects, and the HEAD that decides ------------------------------------------ */

static void on_fetched_whole(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                             void *ud)
{
    struct rop *o = ud;
    struct xcopy *x = o->state;
    if (status) {
        fail(o, status, err);
        rop_finish(o);
        return;
    }
    x->body = res->body; /* borrowed by the PUT until its callback */
    res->body = NULL;
    struct spoor_s3_op t = {.kind = SPOOR_S3_PUT_OBJECT,
                            .bucket = x->dst_bucket,
                            .key = x->dst_key,
                            .body = {.data = x->body, .len = res->body_len},
                            .content_type = x->content_type,
                            .meta = x->meta,
                            .nmeta = x->nmeta};
    if (!send_op(o, x->dst_ep, &t, on_done, o))
        rop_finish(o);
}

/* Metadata for the destination: the caller's when replacing, else the source's. */
static void take_metadata(struct rop *o, struct spoor_s3_result *head)
{
    struct xcopy *x = o->state;
    const struct spoor_s3_op *op = &o->op;
    bool mine = op->replace_meta;
    x->content_type = xstrdup_or_null(mine ? op->content_type : head->content_type);
    size_t n = mine ? op->nmeta : head->nmeta;
    x->meta = xcalloc(n ? n : 1, sizeof *x->meta);
    for (size_t i = 0; i < n; i++) {
        x->meta[i].name = xstrdup(mine ? op->meta[i].name : head->meta[i].name);
        x->meta[i].value = xstrdup(mine ? op->meta[i].value : head->meta[i].value);
    }
    x->nmeta = n;
}

static void on_head(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct rop *o = ud;
    struct xcopy *x = o->state;
    if (status) {
        fail(o, status, err);
        rop_finish(o);
        return;
    }
    x->size = res->object_size >= 0 ? res->object_size : 0;
    x->etag = xstrdup_or_null(res->etag);
    take_metadata(o, res);
    bool small = x->size < COPY_SINGLE_MAX;
    struct spoor_s3_op t;
    if (small)
        t = (struct spoor_s3_op){.kind = SPOOR_S3_GET_OBJECT,
                                 .bucket = x->src_bucket,
                                 .key = x->src_key,
                                 .if_match = x->etag,
                                 .sink = {.max_bytes = (size_t)x->size + 1}};
    else
        t = (struct spoor_s3_op){.kind = SPOOR_S3_CREATE_MULTIPART,
                                 .bucket = x->dst_bucket,
                                 .key = x->dst_key,
                                 .content_type = x->content_type,
                                 .meta = x->meta,
                                 .nmeta = x->nmeta};
    if (!send_op(o, small ? x->src_ep : x->dst_ep, &t, small ? on_fetched_whole : on_created, o))
        rop_finish(o);
}

int rt_copy_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err)
{
    const struct spoor_s3_op *op = &o->op;
    const struct route *dst = route_match(&r->table, op->bucket, op->key);
    const struct route *src = route_match(&r->table, op->src_bucket, op->src_key);
    if (dst->read_only)
        return rt_refuse_read_only(r, dst, op, op->bucket, op->key, err);
    o->route = dst;
    struct xcopy *x = xcalloc(1, sizeof *x);
    o->state = x;
    o->free_state = xcopy_free;
    x->src_ep = rt_endpoint_of(r, src);
    x->dst_ep = o->ep = rt_endpoint_of(r, dst);
    x->src_bucket = xstrdup(route_target_bucket(src, op->src_bucket));
    x->src_key = route_key_forward(src, op->src_key);
    x->dst_bucket = xstrdup(route_target_bucket(dst, op->bucket));
    x->dst_key = route_key_forward(dst, op->key);
    struct spoor_s3_op t = *op;
    if (src->endpoint == dst->endpoint) { /* server-side */
        t.bucket = x->dst_bucket, t.key = x->dst_key;
        t.src_bucket = x->src_bucket, t.src_key = x->src_key;
        return rt_backend_submit(x->dst_ep, &t, on_done, o, err);
    }
    t = (struct spoor_s3_op){
        .kind = SPOOR_S3_HEAD_OBJECT, .bucket = x->src_bucket, .key = x->src_key};
    return rt_backend_submit(x->src_ep, &t, on_head, o, err);
}

/* ---- DeleteObjects split by route ------------------------------------------------------ */

struct xdelete {
    int waiting;
};

struct del_group {
    struct rop *o;
    const struct route *route;
};

static void add_deleted(struct spoor_s3_result *res, char *key)
{
    res->deleted = xrealloc(res->deleted, (res->ndeleted + 1) * sizeof *res->deleted);
    res->deleted[res->ndeleted++] = key;
}

static void add_delete_error(struct spoor_s3_result *res, char *key, const char *code,
                             const char *message)
{
    res->delete_errors =
        xrealloc(res->delete_errors, (res->ndelete_errors + 1) * sizeof *res->delete_errors);
    struct spoor_s3_delete_error *e = &res->delete_errors[res->ndelete_errors++];
    e->key = key;
    e->code = xstrdup(code ? code : "");
    e->message = xstrdup(message ? message : "");
}

static void delete_group_done(struct rop *o)
{
    struct xdelete *x = o->state;
    if (--x->waiting == 0)
        rop_finish(o);
}

static void on_group_deleted(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                             void *ud)
{
    struct del_group *g = ud;
    struct rop *o = g->o;
    if (status && !o->status)
        rop_set_error(o, status, err);
    for (size_t i = 0; !status && i < res->ndeleted; i++) {
        char *k = route_key_reverse(g->route, res->deleted[i]);
        if (k)
            add_deleted(&o->res, k);
    }
    for (size_t i = 0; !status && i < res->ndelete_errors; i++) {
        char *k = route_key_reverse(g->route, res->delete_errors[i].key);
        if (k)
            add_delete_error(&o->res, k, res->delete_errors[i].code, res->delete_errors[i].message);
    }
    free(g);
    delete_group_done(o);
}

/* Sends the keys of op that route maps, translated; reports them if the route is read-only. */
static int delete_group(struct spoor_router *r, struct rop *o, const struct route *route,
                        struct spoor_error *err)
{
    const struct spoor_s3_op *op = &o->op;
    const char **keys = xcalloc(op->nkeys, sizeof *keys);
    size_t n = 0;
    for (size_t i = 0; i < op->nkeys; i++) {
        if (route_match(&r->table, op->bucket, op->keys[i]) != route)
            continue;
        if (route->read_only)
            add_delete_error(&o->res, xstrdup(op->keys[i]), "AccessDenied",
                             "route is read-only; no request was sent");
        else
            keys[n++] = route_key_forward(route, op->keys[i]);
    }
    int rc = 0;
    if (n) {
        struct spoor_s3_op t = {.kind = SPOOR_S3_DELETE_OBJECTS,
                                .bucket = route_target_bucket(route, op->bucket),
                                .keys = keys,
                                .nkeys = n,
                                .quiet = op->quiet};
        struct del_group *g = xmalloc(sizeof *g);
        *g = (struct del_group){o, route};
        ((struct xdelete *)o->state)->waiting++;
        rc = rt_backend_submit(rt_endpoint_of(r, route), &t, on_group_deleted, g, err);
        if (rc) {
            ((struct xdelete *)o->state)->waiting--;
            free(g);
        }
    }
    for (size_t i = 0; i < n; i++)
        free((char *)keys[i]);
    free(keys);
    return rc;
}

static void xdelete_free(struct rop *o)
{
    free(o->state);
}

int rt_delete_many_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err)
{
    struct xdelete *x = xcalloc(1, sizeof *x);
    o->state = x;
    o->free_state = xdelete_free;
    x->waiting = 1; /* held while the groups are sent */
    for (size_t i = 0; i < r->table.nroutes; i++) {
        int rc = delete_group(r, o, &r->table.routes[i], err);
        if (rc && x->waiting == 1)
            return rc; /* nothing sent yet: a plain refusal */
        if (rc) {
            rop_set_error(o, rc, err);
            break;
        }
    }
    if (--x->waiting == 0)
        rop_defer(o); /* every key was refused locally */
    return 0;
}
