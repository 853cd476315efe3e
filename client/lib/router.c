/*
 * router.c: the bucket/prefix router's life cycle and its single-object operations.
 *
 * spoor_router_new loads the route table (route.c), resolves each endpoint (router_creds.c)
 * and makes its backend: an S3 client on one shared engine for s3 and lakefs endpoints, a
 * file store for file endpoints. A single-object operation is matched to its route, refused
 * locally when it writes to a read-only route, translated (bucket and key forward), sent to the
 * backend, and its answer handed back with the caller's names. Listings, copies and batch
 * deletes have their own files.
 *
 * Every operation completes exactly once through rop_finish(); answers known without any
 * request are delivered from a zero-delay timer, so no callback runs inside a submit.
 */
#include "router_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "s3_op.h"
#include "util.h"

/* ---- operations ------------------------------------------------------------------------ */

struct rop *rop_new(struct spoor_router *r, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud)
{
    struct rop *o = xcalloc(1, sizeof *o);
    o->r = r;
    arena_init(&o->arena);
    s3_op_copy(&o->arena, &o->op, op);
    o->cb = cb;
    o->ud = ud;
    spoor_s3_result_cleanup(&o->res);
    r->live++;
    return o;
}

static void rop_free(struct rop *o)
{
    if (o->free_state)
        o->free_state(o);
    spoor_s3_result_cleanup(&o->res);
    arena_cleanup(&o->arena);
    free(o);
}

static void router_maybe_closed(struct spoor_router *r);

void rop_finish(struct rop *o)
{
    struct spoor_router *r = o->r;
    if (o->status) {
        o->err.code = o->status;
        if (!o->err.message[0])
            spoor_error_set(&o->err, o->status, "%s", spoor_strerror(o->status));
    }
    o->cb(o->status, &o->res, &o->err, o->ud);
    rop_free(o);
    r->live--;
    router_maybe_closed(r);
}

static void on_defer(uv_timer_t *t)
{
    struct spoor_router *r = t->data;
    struct rop *list = r->deferred;
    r->deferred = NULL;
    /* Finish in submission order. */
    struct rop *rev = NULL;
    while (list) {
        struct rop *next = list->next_deferred;
        list->next_deferred = rev;
        rev = list;
        list = next;
    }
    while (rev) {
        struct rop *next = rev->next_deferred;
        void (*fn)(struct rop *) = rev->deferred_fn ? rev->deferred_fn : rop_finish;
        rev->deferred_fn = NULL;
        fn(rev);
        rev = next;
    }
}

void rop_defer_call(struct rop *o, void (*fn)(struct rop *o))
{
    o->deferred_fn = fn;
    rop_defer(o);
}

void rop_defer(struct rop *o)
{
    struct spoor_router *r = o->r;
    o->next_deferred = r->deferred;
    r->deferred = o;
    uv_timer_start(&r->defer_timer, on_defer, 0, 0);
}

struct rt_endpoint *rt_endpoint_of(struct spoor_router *r, const struct route *route)
{
    return &r->eps[route->endpoint];
}

int rt_backend_submit(struct rt_endpoint *ep, const struct spoor_s3_op *op, spoor_s3_cb cb,
                      void *ud, struct spoor_error *err)
{
    if (ep->fs)
        return filestore_submit(ep->fs, op, cb, ud, err);
    return spoor_s3_submit(ep->s3, op, cb, ud, err);
}

void rop_set_error(struct rop *o, int status, const struct spoor_error *e)
{
    o->status = status;
    o->err = *e;
    o->err.code = status;
    const struct spoor_s3_op *op = &o->op;
    char route[64] = "";
    if (o->route && o->r->table.nroutes > 1)
        snprintf(route, sizeof route, " via route %zu", o->route->index);
    char msg[2400]; /* the caller's view first; the message is cut to its field if need be */
    snprintf(msg, sizeof msg, "s3://%s/%s%s: %s", op->bucket,
             op->key ? op->key : (op->prefix ? op->prefix : ""), route, e->message);
    str_copy(o->err.message, sizeof o->err.message, msg);
}

int rt_refuse_read_only(const struct spoor_router *r, const struct route *route,
                        const struct spoor_s3_op *op, const char *bucket, const char *key,
                        struct spoor_error *err)
{
    const struct route_endpoint *ep = &r->table.endpoints[route->endpoint];
    return spoor_error_set(err, SPOOR_E_READ_ONLY,
                           "%s s3://%s/%s refused: route %zu (s3://%s/%s -> %s://%s/%s) is "
                           "read-only; no request was sent. Write through a route whose ref is a "
                           "branch, or drop \"read_only\" from the route",
                           s3_op_name(op->kind), bucket, key ? key : "", route->index,
                           route->from_bucket, route->from_prefix, ep->name, route->to_bucket,
                           route->to_prefix);
}

/* ---- single-object operations ---------------------------------------------------------- */

static void on_single_done(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                           void *ud)
{
    struct rop *o = ud;
    o->res = *res; /* nothing in a single-object answer carries a key */
    memset(res, 0, sizeof *res);
    if (status)
        rop_set_error(o, status, err);
    rop_finish(o);
}

static int single_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err)
{
    const struct spoor_s3_op *op = &o->op;
    const char *key = op->key ? op->key : "";
    o->route = route_match(&r->table, op->bucket, key);
    if (o->route->read_only && s3_op_writes(op->kind))
        return rt_refuse_read_only(r, o->route, op, op->bucket, op->key, err);
    o->ep = rt_endpoint_of(r, o->route);
    struct spoor_s3_op t = *op;
    t.bucket = route_target_bucket(o->route, op->bucket);
    /* A bucket operation may carry a key only to say which route it means. */
    bool bucket_op = op->kind == SPOOR_S3_CREATE_BUCKET || op->kind == SPOOR_S3_HEAD_BUCKET;
    char *tkey = op->key && !bucket_op ? route_key_forward(o->route, op->key) : NULL;
    t.key = tkey;
    int rc = rt_backend_submit(o->ep, &t, on_single_done, o, err);
    free(tkey);
    return rc;
}

int spoor_router_submit(struct spoor_router *r, const struct spoor_s3_op *op, spoor_s3_cb cb,
                        void *ud, struct spoor_error *err)
{
    int rc = s3_op_validate(op, err);
    if (rc)
        return rc;
    if (r->closing)
        return spoor_error_set(err, SPOOR_E_CANCELED, "the router is closing");
    struct rop *o = rop_new(r, op, cb, ud);
    switch (op->kind) {
    case SPOOR_S3_LIST_OBJECTS:
        rc = rt_list_submit(r, o, err);
        break;
    case SPOOR_S3_COPY_OBJECT:
        rc = rt_copy_submit(r, o, err);
        break;
    case SPOOR_S3_DELETE_OBJECTS:
        rc = rt_delete_many_submit(r, o, err);
        break;
    default:
        rc = single_submit(r, o, err);
    }
    if (rc) {
        r->live--;
        rop_free(o);
    }
    return rc;
}

/* ---- blocking form --------------------------------------------------------------------- */

int spoor_router_exec(struct spoor_router *r, const struct spoor_s3_op *op,
                      struct spoor_s3_result *res, struct spoor_error *err)
{
    struct s3_sync w;
    int rc = s3_sync_begin(r->private_loop, &w, res, err);
    return rc ? rc : s3_sync_wait(r->loop, &w, spoor_router_submit(r, op, s3_sync_cb, &w, err));
}

/* ---- uploads of local files ----------------------------------------------------------- */

static int submit_router(void *target, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud,
                         struct spoor_error *err)
{
    return spoor_router_submit(target, op, cb, ud, err);
}

int spoor_router_upload_file(struct spoor_router *r, const char *bucket, const char *key,
                             const char *path, const struct spoor_s3_upload_opts *opts,
                             spoor_s3_cb cb, void *ud, struct spoor_error *err)
{
    const struct route *route = route_match(&r->table, bucket, key);
    struct spoor_s3_op put = {.kind = SPOOR_S3_PUT_OBJECT, .bucket = bucket, .key = key};
    if (route->read_only) /* refused before the file is even read */
        return rt_refuse_read_only(r, route, &put, bucket, key, err);
    return s3_upload_file_via(submit_router, r, bucket, key, path, opts, cb, ud, err);
}

int spoor_router_upload_file_exec(struct spoor_router *r, const char *bucket, const char *key,
                                  const char *path, const struct spoor_s3_upload_opts *opts,
                                  struct spoor_s3_result *res, struct spoor_error *err)
{
    struct s3_sync w;
    int rc = s3_sync_begin(r->private_loop, &w, res, err);
    if (rc)
        return rc;
    return s3_sync_wait(r->loop, &w,
                        spoor_router_upload_file(r, bucket, key, path, opts, s3_sync_cb, &w, err));
}

/* ---- explain, presign ------------------------------------------------------------------ */

static const char *type_name(enum route_endpoint_type t)
{
    return t == ROUTE_EP_S3 ? "s3" : t == ROUTE_EP_LAKEFS ? "lakefs" : "file";
}

int spoor_router_explain(const struct spoor_router *r, const char *bucket, const char *key,
                         struct spoor_route_explain *out)
{
    memset(out, 0, sizeof *out);
    if (!bucket || !bucket[0])
        return SPOOR_E_INVALID;
    const struct route *route = route_match(&r->table, bucket, key ? key : "");
    const struct rt_endpoint *ep = &r->eps[route->endpoint];
    out->route_index = r->table.nroutes == 1 && !r->source[0] ? -1 : (int)route->index;
    snprintf(out->from, sizeof out->from, "s3://%s/%s", route->from_bucket, route->from_prefix);
    snprintf(out->to, sizeof out->to, "%s://%s/%s", ep->def->name, route->to_bucket,
             route->to_prefix);
    snprintf(out->endpoint, sizeof out->endpoint, "%s", ep->def->name);
    snprintf(out->endpoint_type, sizeof out->endpoint_type, "%s", type_name(ep->def->type));
    snprintf(out->endpoint_url, sizeof out->endpoint_url, "%s",
             ep->url[0] ? ep->url : "https://s3.<region>.amazonaws.com (AWS)");
    snprintf(out->region, sizeof out->region, "%s", ep->region);
    char *target = route_describe_target(&r->table, route, bucket, key ? key : "");
    snprintf(out->target, sizeof out->target, "%s", target);
    free(target);
    out->read_only = route->read_only;
    snprintf(out->credentials, sizeof out->credentials, "%s", ep->creds_source);
    return 0;
}

int spoor_router_presign(const struct spoor_router *r, const char *method, const char *bucket,
                         const char *key, long expires_s, char **url, struct spoor_error *err)
{
    const struct route *route = route_match(&r->table, bucket, key);
    const struct rt_endpoint *ep = &r->eps[route->endpoint];
    if (!ep->s3)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "s3://%s/%s lives on file endpoint %s: there is no URL to presign",
                               bucket, key, ep->def->name);
    char *tkey = route_key_forward(route, key);
    int rc = spoor_s3_presign(ep->s3, method, route_target_bucket(route, bucket), tkey, expires_s,
                              0, url, err);
    free(tkey);
    return rc;
}

/* ---- life cycle ------------------------------------------------------------------------ */

static void free_router(struct spoor_router *r)
{
    route_table_cleanup(&r->table);
    free(r->eps);
    free(r);
}

static void router_handle_closed(uv_handle_t *h)
{
    struct spoor_router *r = h->data;
    r->open_handles--;
    router_maybe_closed(r);
}

static void on_engine_closed(void *ud)
{
    struct spoor_router *r = ud;
    r->open_handles--;
    router_maybe_closed(r);
}

/* Frees the backends once nothing is in flight (file stores must be idle, S3 clients must
 * have no request), then closes the router's own timer. Runs once. */
static void teardown(struct spoor_router *r)
{
    if (r->torn_down)
        return;
    r->torn_down = true;
    for (size_t i = 0; i < r->neps; i++) {
        spoor_s3_client_free(r->eps[i].s3);
        filestore_free(r->eps[i].fs);
    }
    r->neps = 0;
    uv_close((uv_handle_t *)&r->defer_timer, router_handle_closed);
}

static void router_maybe_closed(struct spoor_router *r)
{
    if (!r->closing || r->live > 0)
        return;
    teardown(r);
    if (r->open_handles > 0 || r->private_loop)
        return;
    void (*cb)(void *) = r->close_cb;
    void *ud = r->close_ud;
    free_router(r);
    if (cb)
        cb(ud);
}

static int make_endpoints(struct spoor_router *r, struct spoor_error *err)
{
    r->neps = r->table.nendpoints;
    r->eps = xcalloc(r->neps ? r->neps : 1, sizeof *r->eps);
    for (size_t i = 0; i < r->neps; i++) {
        struct rt_endpoint *ep = &r->eps[i];
        ep->def = &r->table.endpoints[i];
        if (ep->def->type == ROUTE_EP_FILE) {
            ep->fs = filestore_new(r->loop, ep->def->root, ep->def->name, err);
            if (!ep->fs)
                return err ? err->code : SPOOR_E_CONFIG;
            snprintf(ep->url, sizeof ep->url, "%s", ep->def->root);
            snprintf(ep->creds_source, sizeof ep->creds_source, "none needed (local directory)");
            continue;
        }
        struct spoor_s3_config cfg;
        int rc = rt_endpoint_config(ep->def, &cfg, err);
        if (rc)
            return rc;
        ep->s3 = spoor_s3_client_new(r->engine, &cfg, err);
        if (!ep->s3)
            return SPOOR_E_CONFIG;
        snprintf(ep->url, sizeof ep->url, "%s", cfg.endpoint_url);
        snprintf(ep->region, sizeof ep->region, "%s", spoor_s3_client_config(ep->s3)->region);
        snprintf(ep->creds_source, sizeof ep->creds_source, "%s", cfg.creds.source);
    }
    return 0;
}

static int load_table(struct spoor_router *r, const struct spoor_router_opts *opts,
                      struct spoor_error *err)
{
    const char *path = opts && opts->routes_path ? opts->routes_path : getenv("SPOOR_ROUTES");
    if (path && path[0]) {
        snprintf(r->source, sizeof r->source, "%s", path);
        struct route_problems p = {0};
        int rc = route_table_load(path, &r->table, &p);
        if (rc) {
            spoor_error_set(err, SPOOR_E_CONFIG,
                            "routes file %s has %zu problem%s; the first: %s (run 'spoor route "
                            "check %s' for all of them)",
                            path, p.n, p.n == 1 ? "" : "s", p.n ? p.msgs[0] : "?", path);
            route_problems_cleanup(&p);
            return SPOOR_E_CONFIG;
        }
        return 0;
    }
    if (opts && opts->local_root)
        route_table_default_file(&r->table, opts->local_root);
    else
        route_table_default_s3(&r->table);
    return 0;
}

struct spoor_router *spoor_router_new(uv_loop_t *loop, const struct spoor_router_opts *opts,
                                      struct spoor_error *err)
{
    struct spoor_router *r = xcalloc(1, sizeof *r);
    spoor_error_clear(err);
    if (load_table(r, opts, err) != 0) {
        free(r);
        return NULL;
    }
    r->private_loop = loop == NULL;
    if (r->private_loop) {
        uv_loop_init(&r->own_loop);
        loop = &r->own_loop;
    }
    r->loop = loop;
    struct spoor_s3_engine_opts eo = {opts ? opts->max_concurrency : 0};
    r->engine = spoor_s3_engine_new(loop, &eo);
    uv_timer_init(loop, &r->defer_timer);
    r->defer_timer.data = r;
    r->open_handles = 2; /* the timer and the engine */
    if (!r->engine || make_endpoints(r, err) != 0) {
        if (!r->engine)
            spoor_error_set(err, SPOOR_E_CONFIG, "cannot start libcurl");
        spoor_router_close(r, NULL, NULL);
        return NULL;
    }
    return r;
}

void spoor_router_close(struct spoor_router *r, void (*close_cb)(void *ud), void *ud)
{
    r->closing = true;
    r->close_cb = close_cb;
    r->close_ud = ud;
    on_defer(&r->defer_timer); /* answers already known are delivered, not dropped */
    if (r->engine)
        spoor_s3_engine_close(r->engine, on_engine_closed, r); /* cancels S3 requests */
    else
        r->open_handles--;
    router_maybe_closed(r); /* file operations still running finish first */
    if (!r->private_loop)
        return;
    while (r->live > 0 || r->open_handles > 0)
        uv_run(&r->own_loop, UV_RUN_ONCE);
    uv_loop_close(&r->own_loop);
    free_router(r);
    if (close_cb)
        close_cb(ud);
}

/* ---- checking a routes file ------------------------------------------------------------ */

static void describe_routes(const struct route_table *t, struct buf *b)
{
    buf_printf(b, "%zu endpoint%s, %zu route%s:\n", t->nendpoints, t->nendpoints == 1 ? "" : "s",
               t->nroutes, t->nroutes == 1 ? "" : "s");
    for (size_t i = 0; i < t->nroutes; i++) {
        const struct route *r = &t->routes[i];
        const struct route_endpoint *ep = &t->endpoints[r->endpoint];
        buf_printf(b, "  %zu: s3://%s/%s -> %s://%s/%s (%s)%s\n", i, r->from_bucket, r->from_prefix,
                   ep->name, r->to_bucket, r->to_prefix, type_name(ep->type),
                   r->read_only ? " read-only" : "");
    }
}

int spoor_router_check(const char *path, char **report)
{
    struct route_table t = {0};
    struct route_problems p = {0};
    int rc = route_table_load(path, &t, &p);
    struct buf b;
    buf_init(&b, 1 << 20);
    if (rc) {
        buf_printf(&b, "%s: %zu problem%s:\n", path, p.n, p.n == 1 ? "" : "s");
        for (size_t i = 0; i < p.n; i++)
            buf_printf(&b, "  %s\n", p.msgs[i]);
    } else {
        buf_printf(&b, "%s: ok, ", path);
        describe_routes(&t, &b);
    }
    route_problems_cleanup(&p);
    route_table_cleanup(&t);
    if (report)
        *report = buf_take(&b, NULL);
    else
        buf_cleanup(&b);
    return rc ? SPOOR_E_CONFIG : 0;
}

void spoor_router_stats(const struct spoor_router *r, uint64_t *requests, uint64_t *errors)
{
    spoor_s3_engine_stats(r->engine, requests, errors);
}
