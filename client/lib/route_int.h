/*
 * route_int.h: what route_load.c (parsing) and route_check.c (the checks over parsed routes)
 * share while a routes file is loaded. Not part of the route table's interface (route.h).
 */
#ifndef SPOOR_ROUTE_INT_H
#define SPOOR_ROUTE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "route.h"

/* route.endpoint of a route whose endpoint is unknown (reported) or did not parse. */
#define ROUTE_NO_EP ((size_t)-1)

/* One load in progress. routes[i] strings are NULL where "from" or "to" did not parse; the
 * routes are in table order (botwo's "*" entries already moved last), index = file position. */
struct route_loader {
    const char *source; /* the file, as named in messages */
    bool botwo;         /* "mappings" (named so in messages) rather than "routes" */
    bool bare;          /* botwo's bare list: "aws" and "lakefs" exist implicitly */
    bool eps_ok;        /* endpoint names are known (else unknown names are not reported) */
    struct route_problems *pr;
    struct route_endpoint *eps;
    bool *ep_typed; /* eps[i].type was given and valid */
    size_t neps;
    struct route *routes;
    size_t nroutes;
};

/* Adds "<source>: " + the formatted message to ld->pr. */
void route_problem(struct route_loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The checks across routes (default, order, duplicates, overlapping targets, lakeFS names),
 * each violation reported with route_problem. */
void route_check(struct route_loader *ld);

static inline bool route_is_any(const char *bucket)
{
    return bucket && strcmp(bucket, "*") == 0;
}

#endif
