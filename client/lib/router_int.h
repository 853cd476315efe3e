/*
 * router_int.h: private structures of the router, shared by router.c (setup, single-object
 * operations, explain, deferred completion), router_creds.c (endpoint URL, region and
 * credentials), router_list.c (listings, merged across routes) and router_copy.c (CopyObject
 * across endpoints, DeleteObjects split by route).
 *
 * A router operation (struct rop) carries the caller's op (deep copy), the caller's callback,
 * and whatever per-kind state it needs; it completes exactly once through rop_finish(), which
 * may be called from any backend callback, or deferred to the loop with rop_defer() when the
 * answer is known without a request (an empty listing, a refused key).
 */
#ifndef SPOOR_ROUTER_INT_H
#define SPOOR_ROUTER_INT_H

#include <spoor/router.h>

#include "arena.h"
#include "filestore.h"
#include "route.h"

struct rt_endpoint {
    const struct route_endpoint *def;
    struct spoor_s3_client *s3; /* s3 and lakefs endpoints */
    struct filestore *fs;       /* file endpoints */
    char url[1024];             /* resolved URL ("" = AWS), or the file root */
    char region[64];
    char creds_source[400];
};

struct rop;

struct spoor_router {
    uv_loop_t *loop;
    uv_loop_t own_loop;
    bool private_loop;
    bool closing;
    bool torn_down;
    struct spoor_s3_engine *engine;
    struct route_table table;
    struct rt_endpoint *eps;
    size_t neps;
    char source[1024]; /* the routes file, or a description of the implicit table */
    uv_timer_t defer_timer;
    struct rop *deferred; /* completions waiting for the timer */
    int live;             /* operations not yet completed */
    int open_handles;
    void (*close_cb)(void *);
    void *close_ud;
};

typedef void (*rop_free_fn)(struct rop *o);

struct rop {
    struct spoor_router *r;
    struct arena arena;
    struct spoor_s3_op op; /* the caller's, deep-copied */
    spoor_s3_cb cb;
    void *ud;
    const struct route *route;
    struct rt_endpoint *ep;
    void *state; /* per-kind */
    rop_free_fn free_state;
    int pending; /* backend requests in flight for this operation */
    int status;
    struct spoor_s3_result res;
    struct spoor_error err;
    struct rop *next_deferred;
    void (*deferred_fn)(struct rop *o); /* what the timer runs; NULL: rop_finish */
};

/* router.c */
struct rop *rop_new(struct spoor_router *r, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud);
/* Delivers status/res/err of o to the caller and frees o. */
void rop_finish(struct rop *o);
/* Same, from a zero-delay timer: for answers known inside a submit. */
void rop_defer(struct rop *o);
/* Runs fn(o) from the zero-delay timer instead. */
void rop_defer_call(struct rop *o, void (*fn)(struct rop *o));
/* The endpoint of a route. */
struct rt_endpoint *rt_endpoint_of(struct spoor_router *r, const struct route *route);
/* Submits op (already translated) to ep's backend. */
int rt_backend_submit(struct rt_endpoint *ep, const struct spoor_s3_op *op, spoor_s3_cb cb,
                      void *ud, struct spoor_error *err);
/* Fills o->err from a backend error, prefixed with the caller's view and the route. */
void rop_set_error(struct rop *o, int status, const struct spoor_error *backend_err);
/* A read-only route refusing op: fills err, returns SPOOR_E_READ_ONLY. */
int rt_refuse_read_only(const struct spoor_router *r, const struct route *route,
                        const struct spoor_s3_op *op, const char *bucket, const char *key,
                        struct spoor_error *err);

/* router_creds.c: resolves URL, region and credentials of every endpoint into cfg. */
int rt_endpoint_config(const struct route_endpoint *def, struct spoor_s3_config *cfg,
                       struct spoor_error *err);

/* router_list.c */
int rt_list_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err);

/* router_copy.c */
int rt_copy_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err);
int rt_delete_many_submit(struct spoor_router *r, struct rop *o, struct spoor_error *err);

#endif
