/*
 * route_check.c: the checks across the routes of a file being loaded (route_load.c), which
 * make the run-time rules of route.c true:
 *
 *  - the default "s3://" "*" "/" is present and last, keeps the caller's bucket, and is not a
 *    lakeFS endpoint (not every caller bucket can be a repository);
 *  - order is specific to general: no route comes after a less specific one of the same
 *    bucket, and no source is given twice;
 *  - reverse translation is unambiguous: on one endpoint, no target key is reachable through
 *    two routes. Two targets in one bucket whose prefixes nest overlap, unless one of the two
 *    routes never sends anything into the shared range because a more specific route takes
 *    those caller keys first (the usual case: the default next to a route that keeps its
 *    bucket and prefix, or a route that nests a sub-prefix consistently). The default is
 *    only compared with routes of the caller bucket it would serve: a route from another
 *    bucket into that one is a rename on the same service, which stays allowed;
 *  - lakeFS targets: a repository name lakeFS accepts, a ref as the first key segment, and a
 *    branch name unless the route is read-only.
 *
 * Routes whose "from", "to" or endpoint did not parse were reported already and are skipped
 * by the checks that need those parts.
 */
#include "route_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define REPO_MAX 63

static const char *label(const struct route_loader *ld)
{
    return ld->botwo ? "mappings" : "routes";
}

static bool lakefs(const struct route_loader *ld, const struct route *r)
{
    return r->endpoint != ROUTE_NO_EP && ld->ep_typed[r->endpoint] &&
           ld->eps[r->endpoint].type == ROUTE_EP_LAKEFS;
}

static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = xmalloc(na + nb + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

/* ---- the default route ---------------------------------------------------------------- */

static void missing_default(struct route_loader *ld)
{
    const char *name = "aws";
    for (size_t i = 0; i < ld->neps; i++) {
        if (ld->ep_typed[i] && ld->eps[i].type == ROUTE_EP_S3) {
            name = ld->eps[i].name;
            break;
        }
    }
    if (ld->botwo)
        route_problem(ld,
                      "mappings: no default mapping; add {\"bucket_name\": \"*\", \"client\": "
                      "\"%s\"}, so that every other bucket has somewhere to go",
                      name);
    else
        route_problem(ld,
                      "routes: no default route; add {\"from\": \"s3://*/\", \"to\": "
                      "\"%s://*/\"} as the last route, so that every other bucket has somewhere "
                      "to go",
                      name);
}

static void check_default(struct route_loader *ld)
{
    size_t n = ld->nroutes;
    bool found = false, unknown = false;
    for (size_t i = 0; i < n; i++) {
        const struct route *r = &ld->routes[i];
        if (!r->from_bucket && (ld->botwo || i + 1 == n))
            unknown = true; /* it may have been meant as the default */
        if (!route_is_any(r->from_bucket))
            continue;
        found = true;
        if (i + 1 != n && !ld->botwo)
            route_problem(ld,
                          "routes[%zu]: the default route (bucket \"*\") must be the last route, "
                          "since no route after it is ever reached; move it to the end",
                          r->index);
        else if (r->from_prefix[0])
            route_problem(ld,
                          "routes[%zu]: the default route must match every key, but prefix "
                          "\"%s\" leaves the others unrouted; write \"s3://*/\"",
                          r->index, r->from_prefix);
    }
    if (!found && !unknown)
        missing_default(ld);
}

static void check_default_target(struct route_loader *ld, const struct route *r)
{
    const char *ep = ld->eps[r->endpoint].name;
    if (lakefs(ld, r))
        route_problem(ld,
                      "%s[%zu]: the default route goes to lakeFS endpoint \"%s\", but not every "
                      "caller bucket can be a repository; send the default to an s3 or file "
                      "endpoint and route each bucket to its repository by name",
                      label(ld), r->index, ep);
    else if (!route_is_any(r->to_bucket))
        route_problem(ld,
                      "%s[%zu]: the default route sends every bucket into the one bucket "
                      "\"%s\", where keys of different buckets would collide; keep the "
                      "caller's bucket with \"%s://*/%s\"",
                      label(ld), r->index, r->to_bucket, ep, r->to_prefix);
}

/* ---- order ---------------------------------------------------------------------------- */

static void check_order(struct route_loader *ld)
{
    const char *lbl = label(ld);
    for (size_t j = 0; j < ld->nroutes; j++) {
        const struct route *b = &ld->routes[j];
        for (size_t i = 0; b->from_bucket && i < j; i++) {
            const struct route *a = &ld->routes[i];
            if (!a->from_bucket || strcmp(a->from_bucket, b->from_bucket) != 0)
                continue;
            if (strcmp(a->from_prefix, b->from_prefix) == 0) {
                route_problem(ld,
                              "%s[%zu]: same source s3://%s/%s as %s[%zu], so it is never "
                              "used; remove one of the two",
                              lbl, b->index, b->from_bucket, b->from_prefix, lbl, a->index);
                break;
            }
            if (!route_is_any(a->from_bucket) && str_has_prefix(b->from_prefix, a->from_prefix)) {
                route_problem(ld,
                              "%s[%zu]: s3://%s/%s comes after the less specific %s[%zu] "
                              "(s3://%s/%s), which already takes all of its keys; move "
                              "%s[%zu] above %s[%zu]",
                              lbl, b->index, b->from_bucket, b->from_prefix, lbl, a->index,
                              a->from_bucket, a->from_prefix, lbl, b->index, lbl, a->index);
                break;
            }
        }
    }
}

/* ---- lakeFS names --------------------------------------------------------------------- */

static bool repo_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > REPO_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)))
            return false;
    }
    return true;
}

/* ^\w[-\w]*$ over s[0..n), \w being [A-Za-z0-9_] as in Go. */
static bool branch_ok(const char *s, size_t n)
{
    if (n == 0 || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* A repository name close to bucket: lower case, other bytes as '-', at least 3 bytes. */
static void repo_like(const char *bucket, char out[REPO_MAX + 1])
{
    size_t n = 0;
    for (const char *p = bucket; *p && n < REPO_MAX; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (ok || (n > 0 && out[n - 1] != '-'))
            out[n++] = ok ? c : '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    while (n < 3)
        out[n++] = 'r';
    out[n] = '\0';
}

static void check_lakefs(struct route_loader *ld, const struct route *r)
{
    const char *lbl = label(ld), *ep = ld->eps[r->endpoint].name;
    const char *repo = route_is_any(r->to_bucket) ? r->from_bucket : r->to_bucket;
    char like[REPO_MAX + 1];
    repo_like(repo ? repo : "", like);
    if (repo && !repo_ok(repo))
        route_problem(ld,
                      "%s[%zu]: \"%s\" is not a lakeFS repository name (3-63 characters of a-z, "
                      "0-9 and '-', starting with a letter or digit; no dots or underscores)%s; "
                      "name a repository in the target, e.g. %s://%s/main/",
                      lbl, r->index, repo,
                      route_is_any(r->to_bucket) ? ", and target bucket \"*\" keeps it" : "", ep,
                      like);
    const char *slash = strchr(r->to_prefix, '/');
    if (!slash || slash == r->to_prefix) {
        route_problem(ld,
                      "%s[%zu]: a lakeFS target needs a ref (branch, tag or commit) as the first "
                      "key segment, as lakeFS reads it so; write e.g. %s://%s/main/%s",
                      lbl, r->index, ep, r->to_bucket, slash ? r->to_prefix + 1 : r->to_prefix);
        return;
    }
    size_t n = (size_t)(slash - r->to_prefix);
    if (!r->read_only && !branch_ok(r->to_prefix, n))
        route_problem(ld,
                      "%s[%zu]: ref \"%.*s\" is not a branch name (letters, digits, '_' and '-'), "
                      "so lakeFS cannot write to it; set \"read_only\": true for a tag or commit, "
                      "or use a branch",
                      lbl, r->index, (int)n, r->to_prefix);
}

/* ---- overlapping targets -------------------------------------------------------------- */

/* Can take part in the overlap check; the broken defaults were reported already. */
static bool usable(const struct route_loader *ld, const struct route *r)
{
    if (!r->from_bucket || !r->to_bucket || r->endpoint == ROUTE_NO_EP)
        return false;
    return !route_is_any(r->from_bucket) || (route_is_any(r->to_bucket) && !lakefs(ld, r));
}

/* The endpoint's bucket r writes to: "*" only for the default. */
static const char *target_bucket(const struct route *r)
{
    return route_is_any(r->to_bucket) ? r->from_bucket : r->to_bucket;
}

/* Whether x sends nothing into the range `into` of endpoint bucket b (into and x's to_prefix
 * nest): every caller key that x would translate into that range is taken first by a more
 * specific route of the same caller bucket. */
static bool sends_nothing_into(const struct route_loader *ld, const struct route *x, const char *b,
                               const char *into)
{
    bool dflt = route_is_any(x->from_bucket);
    const char *cb = dflt ? b : x->from_bucket;
    size_t lt = strlen(x->to_prefix), lx = strlen(x->from_prefix);
    /* The caller keys of x that land in the range all start with k. */
    char *k = concat(x->from_prefix, lt <= strlen(into) ? into + lt : "");
    bool taken = false;
    for (size_t i = 0; i < ld->nroutes && !taken; i++) {
        const struct route *z = &ld->routes[i];
        if (z == x || !z->from_bucket || route_is_any(z->from_bucket) ||
            strcmp(z->from_bucket, cb) != 0 || (!dflt && strlen(z->from_prefix) <= lx))
            continue;
        taken = str_has_prefix(k, z->from_prefix);
    }
    free(k);
    return taken;
}

static void check_pair(struct route_loader *ld, const struct route *a, const struct route *b)
{
    const char *ba = target_bucket(a), *bb = target_bucket(b);
    if (route_is_any(ba) && route_is_any(bb))
        return;
    if (!route_is_any(ba) && !route_is_any(bb) && strcmp(ba, bb) != 0)
        return;
    const char *bucket = route_is_any(ba) ? bb : ba;
    /* The default keeps each caller's bucket, so it only meets callers of this bucket: a
     * route of another caller bucket into it is a rename on the same service (old name and
     * new name both keep working), never seen twice in one listing. */
    const struct route *other = route_is_any(ba) ? b : route_is_any(bb) ? a : NULL;
    if (other && strcmp(other->from_bucket, bucket) != 0)
        return;
    if (!str_has_prefix(a->to_prefix, b->to_prefix) && !str_has_prefix(b->to_prefix, a->to_prefix))
        return;
    if (sends_nothing_into(ld, a, bucket, b->to_prefix) ||
        sends_nothing_into(ld, b, bucket, a->to_prefix))
        return;
    const char *lbl = label(ld), *ep = ld->eps[a->endpoint].name;
    route_problem(ld,
                  "%s[%zu]: its target %s://%s/%s overlaps the target %s://%s/%s of %s[%zu] on "
                  "the same endpoint, so a key read back from there would have two caller "
                  "names; give each route its own target bucket, or a target prefix outside "
                  "the other's",
                  lbl, b->index, ep, bucket, b->to_prefix, ep, bucket, a->to_prefix, lbl, a->index);
}

static void check_overlaps(struct route_loader *ld)
{
    for (size_t j = 0; j < ld->nroutes; j++) {
        const struct route *b = &ld->routes[j];
        for (size_t i = 0; usable(ld, b) && i < j; i++) {
            const struct route *a = &ld->routes[i];
            if (usable(ld, a) && a->endpoint == b->endpoint)
                check_pair(ld, a, b);
        }
    }
}

void route_check(struct route_loader *ld)
{
    check_default(ld);
    for (size_t i = 0; i < ld->nroutes; i++) {
        const struct route *r = &ld->routes[i];
        if (!r->to_bucket || r->endpoint == ROUTE_NO_EP)
            continue;
        if (route_is_any(r->from_bucket))
            check_default_target(ld, r);
        else if (lakefs(ld, r))
            check_lakefs(ld, r);
    }
    check_order(ld);
    check_overlaps(ld);
}
