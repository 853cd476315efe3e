/*
 * route.c: the run-time half of the route table (route.h): matching a caller's (bucket, key)
 * to the first route that covers it, translating keys forward and back, StartAfter, the
 * routes nested inside a listing, the implicit default tables and cleanup. Loading and
 * checking a configuration file is route_load.c.
 *
 * What it is not: no I/O of any kind, no environment, no clock. Every function is over the
 * bytes it is given; keys are compared with memcmp order (strcmp on NUL-free UTF-8).
 *
 * Invariants relied on (established by route_load.c, or by the default tables): every route's
 * strings are non-NULL, prefixes are "" or end in '/', the last route is the "*" default, and
 * the first match is also the most specific one. Translation is a pure prefix swap, so byte
 * order is preserved both ways: for keys under from_prefix, a < b iff fwd(a) < fwd(b).
 */
#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool is_any(const char *bucket)
{
    return bucket[0] == '*' && bucket[1] == '\0';
}

static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = xmalloc(na + nb + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

const struct route *route_match(const struct route_table *t, const char *bucket, const char *key)
{
    for (size_t i = 0; i < t->nroutes; i++) {
        const struct route *r = &t->routes[i];
        if ((is_any(r->from_bucket) || strcmp(r->from_bucket, bucket) == 0) &&
            str_has_prefix(key, r->from_prefix))
            return r;
    }
    return NULL;
}

const char *route_target_bucket(const struct route *r, const char *bucket)
{
    return is_any(r->to_bucket) ? bucket : r->to_bucket;
}

/* A key outside from_prefix breaks the caller's contract; NULL makes that loud rather than
 * sending the object somewhere nobody would look for it. */
char *route_key_forward(const struct route *r, const char *key)
{
    if (!str_has_prefix(key, r->from_prefix))
        return NULL;
    return concat(r->to_prefix, key + strlen(r->from_prefix));
}

char *route_key_reverse(const struct route *r, const char *key)
{
    if (!str_has_prefix(key, r->to_prefix))
        return NULL;
    return concat(r->from_prefix, key + strlen(r->to_prefix));
}

/* Spec 6.2. A string that neither starts with S nor sorts before it sorts after every key
 * that starts with S: the first byte where they differ is greater in s (if s were a proper
 * prefix of S, it would sort before S). */
enum route_start route_start_after(const struct route *r, const char *s, char **out)
{
    *out = NULL;
    if (str_has_prefix(s, r->from_prefix)) {
        *out = concat(r->to_prefix, s + strlen(r->from_prefix));
        return ROUTE_START_SEND;
    }
    return strcmp(s, r->from_prefix) < 0 ? ROUTE_START_OMIT : ROUTE_START_EMPTY;
}

size_t route_nested(const struct route_table *t, const char *bucket, const char *prefix,
                    const struct route *matched, const struct route **out, size_t cap)
{
    size_t n = 0;
    const char *mprefix = matched ? matched->from_prefix : NULL;
    for (size_t i = 0; i < t->nroutes; i++) {
        const struct route *r = &t->routes[i];
        /* A "*" route is the default; it never lies inside anything. */
        if (r == matched || is_any(r->from_bucket) || strcmp(r->from_bucket, bucket) != 0)
            continue;
        if (!str_has_prefix(r->from_prefix, prefix))
            continue;
        if (mprefix && strcmp(r->from_prefix, mprefix) == 0)
            continue;
        if (n < cap)
            out[n] = r;
        n++;
    }
    return n;
}

char *route_describe_target(const struct route_table *t, const struct route *r, const char *bucket,
                            const char *key)
{
    char *tkey = route_key_forward(r, key ? key : r->from_prefix);
    if (!tkey)
        return NULL;
    const char *name = r->endpoint < t->nendpoints ? t->endpoints[r->endpoint].name : "?";
    const char *tb = route_target_bucket(r, bucket);
    size_t n = strlen(name) + strlen(tb) + strlen(tkey) + 5;
    char *s = xmalloc(n);
    size_t nn = strlen(name), nb = strlen(tb);
    memcpy(s, name, nn);
    memcpy(s + nn, "://", 3);
    memcpy(s + nn + 3, tb, nb);
    s[nn + 3 + nb] = '/';
    memcpy(s + nn + 4 + nb, tkey, strlen(tkey) + 1);
    free(tkey);
    return s;
}

/* ---- implicit tables and cleanup ----------------------------------------------------- */

static void default_table(struct route_table *t, const char *name, enum route_endpoint_type type)
{
    *t = (struct route_table){0};
    t->endpoints = xcalloc(1, sizeof *t->endpoints);
    t->nendpoints = 1;
    str_copy(t->endpoints[0].name, sizeof t->endpoints[0].name, name);
    t->endpoints[0].type = type;
    t->endpoints[0].addressing =
        type == ROUTE_EP_S3 ? SPOOR_S3_ADDRESSING_AUTO : SPOOR_S3_ADDRESSING_PATH;
    t->routes = xcalloc(1, sizeof *t->routes);
    t->nroutes = 1;
    struct route *r = &t->routes[0];
    r->from_bucket = xstrdup("*");
    r->from_prefix = xstrdup("");
    r->to_bucket = xstrdup("*");
    r->to_prefix = xstrdup("");
}

void route_table_default_s3(struct route_table *t)
{
    default_table(t, "aws", ROUTE_EP_S3);
}

void route_table_default_file(struct route_table *t, const char *root)
{
    default_table(t, "local", ROUTE_EP_FILE);
    str_copy(t->endpoints[0].root, sizeof t->endpoints[0].root, root ? root : "");
}

void route_table_cleanup(struct route_table *t)
{
    for (size_t i = 0; i < t->nroutes; i++) {
        free(t->routes[i].from_bucket);
        free(t->routes[i].from_prefix);
        free(t->routes[i].to_bucket);
        free(t->routes[i].to_prefix);
    }
    free(t->routes);
    free(t->endpoints);
    *t = (struct route_table){0};
}

void route_problems_cleanup(struct route_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->msgs[i]);
    free(p->msgs);
    p->msgs = NULL;
    p->n = 0;
}
