/*
 * route_load.c: loading a routes file (route.h): JSON (jansson) into endpoints and routes, in
 * spoor's form {"endpoints", "routes"} or botwo's mappings ({"endpoints", "mappings"} or a
 * bare list), then the checks that make the run-time half (route.c) correct: the default
 * route is last, order is specific to general, targets do not overlap, lakeFS targets are
 * names lakeFS accepts.
 *
 * It never stops at the first problem: every entry is parsed as far as it can be, and each
 * problem becomes one message "<source>: <where>: <what is wrong>; <how to mend it>". Parts
 * that did not parse are left NULL (strings) or ROUTE_NO_EP (endpoint) and skipped by the checks
 * that need them, so one mistake is reported once. The table is handed over only when there
 * is no problem at all. Values of *_env keys are never echoed: a secret pasted there stays
 * out of the logs.
 *
 * What it is not: no environment, no network. Whether a lakeFS branch exists or credentials
 * resolve is the router's business at startup (spec 6.9).
 */
#include "route_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <spoor/error.h>

#include "buf.h"
#include "util.h"

#define MSG_MAX_BYTES (64u * 1024)
#define FILE_MAX_BYTES (16u * 1024 * 1024)
#define BUCKET_MAX_BYTES 255

/* ---- messages ------------------------------------------------------------------------- */

static void push(struct route_problems *p, struct buf *b, int rc)
{
    if (rc) {
        buf_reset(b);
        buf_append_str(b, "a problem whose description is too long to show");
    }
    p->msgs = xrealloc(p->msgs, (p->n + 1) * sizeof *p->msgs);
    p->msgs[p->n++] = buf_take(b, NULL);
}

static void raw_problem(struct route_problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void raw_problem(struct route_problems *p, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, MSG_MAX_BYTES);
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    push(p, &b, rc);
}

void route_problem(struct route_loader *ld, const char *fmt, ...)
{
    struct buf b;
    buf_init(&b, MSG_MAX_BYTES);
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_printf(&b, "%s: ", ld->source);
    if (!rc)
        rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    push(ld->pr, &b, rc);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "a list";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Optimal string alignment distance (a swap of two neighbours counts once), ignoring ASCII
 * case; words longer than 40 bytes are never close to a key. */
static size_t distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 40 || nb > 40)
        return SIZE_MAX;
    size_t d[41][41];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++) {
        for (size_t j = 1; j <= nb; j++) {
            size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
            size_t m = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < m)
                m = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < m)
                m = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < m)
                m = d[i - 2][j - 2] + 1;
            d[i][j] = m;
        }
    }
    return d[na][nb];
}

/* The closest of known (NULL-terminated) to word, if close enough to be a typo. */
static const char *suggest(const char *word, const char *const *known, size_t nknown)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < nknown && known[i]; i++) {
        size_t d = distance(word, known[i]);
        size_t limit = strlen(known[i]) >= 5 ? 2 : 1;
        if (d <= limit && d < bestd) {
            best = known[i];
            bestd = d;
        }
    }
    return best;
}

static size_t count(const char *const *known)
{
    size_t n = 0;
    while (known[n])
        n++;
    return n;
}

/* "\"a\", \"b\", \"c\"" into b. */
static void list_names(struct buf *b, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s\"%s\"", i ? ", " : "", names[i]);
}

static void unknown_key(struct route_loader *ld, const char *where, const char *key,
                        const char *const *known)
{
    char wh[400];
    snprintf(wh, sizeof wh, "%.380s%s", where ? where : "", where ? ": " : "");
    const char *top = where ? "" : "top-level ";
    const char *s = suggest(key, known, count(known));
    if (s) {
        route_problem(ld, "%sunknown %skey \"%s\" (did you mean \"%s\"?); rename it to \"%s\"", wh,
                      top, key, s, s);
        return;
    }
    for (size_t i = 0; known[i]; i++) {
        size_t n = strlen(known[i]);
        if (n > 4 && strcmp(known[i] + n - 4, "_env") == 0 && strlen(key) == n - 4 &&
            strncmp(key, known[i], n - 4) == 0) {
            route_problem(
                ld,
                "%s\"%s\" holds a secret, and secrets never go in this file; put it in an "
                "environment variable and name that variable with \"%s\"",
                wh, key, known[i]);
            return;
        }
    }
    struct buf b;
    buf_init(&b, MSG_MAX_BYTES);
    list_names(&b, known, count(known));
    route_problem(ld, "%sunknown %skey \"%s\"; remove it (the keys here are %s)", wh, top, key,
                  b.data);
    buf_cleanup(&b);
}

static void check_keys(struct route_loader *ld, const char *where, json_t *obj,
                       const char *const *known)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i])
            unknown_key(ld, where, key, known);
    }
}

/* 0 absent, 1 present (*out borrowed from obj), -1 not a string (reported). */
static int get_str(struct route_loader *ld, const char *where, json_t *obj, const char *key,
                   const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v)) {
        route_problem(ld, "%s: \"%s\" must be a string, not %s; write it in double quotes", where,
                      key, type_name(v));
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

static void set_field(struct route_loader *ld, const char *where, const char *key, const char *val,
                      char *dst, size_t size)
{
    if (!str_copy(dst, size, val))
        route_problem(ld, "%s: \"%s\" is longer than %zu bytes; shorten it", where, key, size - 1);
}

/* ---- endpoints ------------------------------------------------------------------------ */

static const char *const ep_keys[] = {"type", "url",         "region", "addressing",
                                      "root", "credentials", NULL};
static const char *const cred_keys[] = {"profile", "access_key_id_env", "secret_access_key_env",
                                        "session_token_env", NULL};
static const char *const ep_types[] = {"s3", "lakefs", "file", NULL};
static const char *const addressings[] = {"path", "virtual", "auto", NULL};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '+';
}

static bool env_name_ok(const char *s)
{
    if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; *s; s++)
        if (!name_char(*s) || *s == '-' || *s == '.' || *s == '+')
            return false;
    return true;
}

static size_t add_endpoint(struct route_loader *ld, const char *name, enum route_endpoint_type type)
{
    ld->eps = xrealloc(ld->eps, (ld->neps + 1) * sizeof *ld->eps);
    ld->ep_typed = xrealloc(ld->ep_typed, (ld->neps + 1) * sizeof *ld->ep_typed);
    struct route_endpoint *ep = &ld->eps[ld->neps];
    *ep = (struct route_endpoint){0};
    str_copy(ep->name, sizeof ep->name, name);
    ep->type = type;
    ep->addressing = type == ROUTE_EP_S3 ? SPOOR_S3_ADDRESSING_AUTO : SPOOR_S3_ADDRESSING_PATH;
    if (type == ROUTE_EP_LAKEFS)
        str_copy(ep->region, sizeof ep->region, "us-east-1");
    ld->ep_typed[ld->neps] = true;
    return ld->neps++;
}

static void check_ep_name(struct route_loader *ld, const char *where, const char *name)
{
    bool ok = name[0] != '\0' && strlen(name) < sizeof ld->eps->name;
    for (const char *p = name; *p && ok; p++)
        ok = name_char(*p);
    if (!ok)
        route_problem(
            ld,
            "%s: an endpoint name must be 1-%zu letters, digits, '_', '-', '.' or '+', as it "
            "is written before \"://\" in \"to\"; rename it",
            where, sizeof ld->eps->name - 1);
}

static void parse_creds(struct route_loader *ld, const char *where, json_t *c,
                        struct route_endpoint *ep)
{
    char wh[400];
    snprintf(wh, sizeof wh, "%.380s.credentials", where);
    if (!json_is_object(c)) {
        route_problem(ld,
                      "%s: must be an object such as {\"profile\": \"name\"}, not %s; rewrite it",
                      wh, type_name(c));
        return;
    }
    check_keys(ld, wh, c, cred_keys);
    char *dst[] = {ep->creds.profile, ep->creds.access_key_id_env, ep->creds.secret_access_key_env,
                   ep->creds.session_token_env};
    bool bad = false; /* a variable name was refused: the pairing rules would repeat it */
    for (size_t i = 0; cred_keys[i]; i++) {
        const char *v;
        if (get_str(ld, wh, c, cred_keys[i], &v) < 0)
            bad = true;
        if (!v)
            continue;
        if (i > 0 && !env_name_ok(v) && (bad = true))
            route_problem(
                ld,
                "%s: \"%s\" is not an environment variable name (letters, digits and '_', "
                "not starting with a digit); it names the variable that holds the value, "
                "never the value itself",
                wh, cred_keys[i]);
        else
            set_field(ld, wh, cred_keys[i], v, dst[i], sizeof ep->creds.profile);
    }
    if (bad)
        return;
    if (!ep->creds.access_key_id_env[0] != !ep->creds.secret_access_key_env[0])
        route_problem(
            ld,
            "%s: \"access_key_id_env\" and \"secret_access_key_env\" go together; name both "
            "variables or neither",
            wh);
    if (ep->creds.session_token_env[0] && !ep->creds.access_key_id_env[0])
        route_problem(ld,
                      "%s: \"session_token_env\" needs \"access_key_id_env\" and "
                      "\"secret_access_key_env\"; name the key pair's variables too",
                      wh);
}

/* url, region, addressing, root into ep; given[i] is get_str's answer for each of them. */
static void parse_ep_fields(struct route_loader *ld, const char *where, json_t *v,
                            struct route_endpoint *ep, int given[4])
{
    static const char *const keys[] = {"url", "region", "addressing", "root"};
    char *dst[] = {ep->url, ep->region, NULL, ep->root};
    size_t size[] = {sizeof ep->url, sizeof ep->region, 0, sizeof ep->root};
    for (size_t k = 0; k < 4; k++) {
        const char *s;
        given[k] = get_str(ld, where, v, keys[k], &s);
        if (given[k] > 0 && dst[k])
            set_field(ld, where, keys[k], s, dst[k], size[k]);
        if (given[k] <= 0 || dst[k])
            continue;
        static const enum spoor_s3_addressing modes[] = {
            SPOOR_S3_ADDRESSING_PATH, SPOOR_S3_ADDRESSING_VIRTUAL, SPOOR_S3_ADDRESSING_AUTO};
        size_t i = 0;
        while (addressings[i] && strcmp(addressings[i], s) != 0)
            i++;
        if (addressings[i])
            ep->addressing = modes[i];
        else
            route_problem(ld,
                          "%s: unknown addressing \"%s\"; use \"path\", \"virtual\" or \"auto\"",
                          where, s);
    }
}

static void check_url(struct route_loader *ld, const char *where, const struct route_endpoint *ep)
{
    const char *u = ep->url;
    if (strchr(u, '@')) {
        /* Not echoed: what comes before '@' is most likely a password. */
        route_problem(ld,
                      "%s: url holds a user name or password ('@'); keep only scheme, host and "
                      "port there, and name the credentials' variables under \"credentials\"",
                      where);
        return;
    }
    const char *host = str_has_prefix(u, "https://")  ? u + 8
                       : str_has_prefix(u, "http://") ? u + 7
                                                      : NULL;
    if (!host || !host[0] || host[0] == '/') {
        route_problem(
            ld,
            "%s: url \"%s\" is not an http:// or https:// address with a host; write e.g. "
            "\"https://%s\"",
            where, u, ep->type == ROUTE_EP_LAKEFS ? "lakefs.example.com" : "s3.example.com");
        return;
    }
    const char *api = strstr(u, "/api/v1");
    if (ep->type == ROUTE_EP_LAKEFS && api)
        route_problem(
            ld,
            "%s: url \"%s\" points at lakeFS's API, but the S3 gateway answers at the server "
            "root; use the server root \"%.*s\"",
            where, u, (int)(api - u), u);
}

/* given: url, region, addressing, root, credentials (0 absent, else present). */
static void check_ep_type(struct route_loader *ld, const char *where, struct route_endpoint *ep,
                          const int given[5])
{
    static const char *const fields[] = {"url", "region", "addressing", NULL, "credentials"};
    if (ep->type == ROUTE_EP_FILE) {
        for (size_t i = 0; i < 5; i++)
            if (fields[i] && given[i])
                route_problem(ld, "%s: \"%s\" does not apply to a file endpoint; remove it", where,
                              fields[i]);
        if (!ep->root[0] && given[3] >= 0)
            route_problem(ld,
                          "%s: a file endpoint needs \"root\", the directory that holds "
                          "<bucket>/<key>; add e.g. \"root\": \"/var/lib/spoor/objects\"",
                          where);
        return;
    }
    if (given[3])
        route_problem(ld,
                      "%s: \"root\" applies only to file endpoints; remove it (or set \"type\": "
                      "\"file\")",
                      where);
    if (ep->url[0])
        check_url(ld, where, ep);
    if (ep->type != ROUTE_EP_LAKEFS)
        return;
    if (ep->addressing == SPOOR_S3_ADDRESSING_VIRTUAL)
        route_problem(
            ld,
            "%s: lakeFS's gateway is always addressed path-style; remove \"addressing\" or "
            "set it to \"path\"",
            where);
    ep->addressing = SPOOR_S3_ADDRESSING_PATH;
    if (ep->region[0] && strcmp(ep->region, "us-east-1") != 0)
        route_problem(
            ld,
            "%s: region \"%s\" is not lakeFS's: its gateway signs as \"us-east-1\"; remove "
            "\"region\" or set it to \"us-east-1\"",
            where, ep->region);
    str_copy(ep->region, sizeof ep->region, "us-east-1");
    if (ep->creds.profile[0])
        route_problem(
            ld,
            "%s: \"profile\" names an AWS profile, which a lakeFS endpoint never reads; name "
            "the variables with \"access_key_id_env\" and \"secret_access_key_env\" instead",
            where);
}

static void parse_endpoint(struct route_loader *ld, const char *name, json_t *v)
{
    char where[400];
    snprintf(where, sizeof where, "endpoints.%.300s", name);
    check_ep_name(ld, where, name);
    size_t i = add_endpoint(ld, name, ROUTE_EP_S3);
    struct route_endpoint *ep = &ld->eps[i];
    ld->ep_typed[i] = false;
    if (!json_is_object(v)) {
        route_problem(ld, "%s: must be an object such as {\"type\": \"s3\"}, not %s; rewrite it",
                      where, type_name(v));
        return;
    }
    check_keys(ld, where, v, ep_keys);
    const char *type;
    int rc = get_str(ld, where, v, "type", &type);
    size_t t = 0;
    while (type && ep_types[t] && strcmp(ep_types[t], type) != 0)
        t++;
    if (rc == 0) {
        route_problem(ld, "%s: no \"type\"; add \"type\": \"s3\", \"lakefs\" or \"file\"", where);
    } else if (type && !ep_types[t]) {
        const char *s = suggest(type, ep_types, 3);
        route_problem(ld, "%s: unknown type \"%s\"%s%s%s; use \"s3\", \"lakefs\" or \"file\"",
                      where, type, s ? " (did you mean \"" : "", s ? s : "", s ? "\"?)" : "");
    } else if (type) {
        static const enum route_endpoint_type types[] = {ROUTE_EP_S3, ROUTE_EP_LAKEFS,
                                                         ROUTE_EP_FILE};
        ep->type = types[t];
        ep->addressing =
            ep->type == ROUTE_EP_S3 ? SPOOR_S3_ADDRESSING_AUTO : SPOOR_S3_ADDRESSING_PATH;
        ld->ep_typed[i] = true;
    }
    int given[5] = {0};
    parse_ep_fields(ld, where, v, ep, given);
    json_t *c = json_object_get(v, "credentials");
    if ((given[4] = c != NULL))
        parse_creds(ld, where, c, ep);
    if (ld->ep_typed[i])
        check_ep_type(ld, where, ep, given);
}

static void parse_endpoints(struct route_loader *ld, json_t *eps)
{
    const char *name;
    json_t *v;
    json_object_foreach(eps, name, v)
    {
        parse_endpoint(ld, name, v);
    }
    ld->eps_ok = true;
}

/* ---- routes: parsing ------------------------------------------------------------------ */

static const char *const top_keys[] = {"endpoints", "routes", "mappings", NULL};
static const char *const route_keys[] = {"from", "to", "read_only", NULL};
static const char *const mapping_keys[] = {"bucket_name", "mapped_bucket_name", "client",
                                           "key_prefix",  "read_only",          NULL};

/* Bucket names: non-empty, no '/', at most 255 bytes, '*' only as the whole name. */
static bool check_bucket(struct route_loader *ld, const char *where, const char *what,
                         const char *bucket)
{
    size_t n = strlen(bucket);
    if (n == 0)
        route_problem(ld, "%s: %s has an empty bucket; name a bucket, or \"*\"", where, what);
    else if (strchr(bucket, '/'))
        route_problem(ld,
                      "%s: %s bucket \"%s\" contains '/'; a bucket name has no '/' (a key prefix "
                      "goes in \"key_prefix\")",
                      where, what, bucket);
    else if (n > BUCKET_MAX_BYTES)
        route_problem(ld, "%s: %s bucket is %zu bytes long; bucket names have at most %d bytes",
                      where, what, n, BUCKET_MAX_BYTES);
    else if (strchr(bucket, '*') && n > 1)
        route_problem(
            ld,
            "%s: %s bucket \"%s\" contains '*'; only a whole \"*\" is a wildcard (and key "
            "prefixes are literal, not patterns)",
            where, what, bucket);
    else
        return true;
    return false;
}

/* A non-empty prefix ends in '/'; shown is what the user wrote, to be completed with '/'. */
static bool check_prefix(struct route_loader *ld, const char *where, const char *what,
                         const char *prefix, const char *shown)
{
    size_t n = strlen(prefix);
    if (n == 0 || prefix[n - 1] == '/')
        return true;
    const char *last = strrchr(prefix, '/');
    route_problem(ld,
                  "%s: %s prefix \"%s\" does not end in '/', so it would also match \"%s2/...\"; "
                  "end it with '/': \"%s/\"",
                  where, what, prefix, last ? last + 1 : prefix, shown);
    return false;
}

/* Splits "scheme://bucket/prefix" (parts new); false, with a problem, if it is not one. */
static bool split_uri(struct route_loader *ld, const char *where, const char *what, const char *uri,
                      char **scheme, char **bucket, char **prefix)
{
    const char *sep = strstr(uri, "://");
    const char *example =
        strcmp(what, "\"from\"") == 0 ? "s3://bucket/prefix/" : "endpoint://bucket/prefix/";
    if (!sep || sep == uri) {
        route_problem(ld, "%s: %s \"%s\" is not of the form %s; write it so", where, what, uri,
                      example);
        return false;
    }
    const char *b = sep + 3, *slash = strchr(b, '/');
    if (!slash) {
        route_problem(ld, "%s: %s \"%s\" has no '/' after the bucket; write \"%s/\"", where, what,
                      uri, uri);
        return false;
    }
    char *bk = xstrndup(b, (size_t)(slash - b));
    bool ok = check_bucket(ld, where, what, bk);
    ok = check_prefix(ld, where, what, slash + 1, uri) && ok;
    if (!ok) {
        free(bk);
        return false;
    }
    *scheme = xstrndup(uri, (size_t)(sep - uri));
    *bucket = bk;
    *prefix = xstrdup(slash + 1);
    return true;
}

/* "a, b, c" of the defined endpoint names, for messages. */
static char *endpoint_names(const struct route_loader *ld)
{
    struct buf b;
    buf_init(&b, MSG_MAX_BYTES);
    for (size_t i = 0; i < ld->neps && !ld->bare; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", ld->eps[i].name);
    if (ld->bare)
        buf_append_str(&b, "aws, lakefs");
    if (!b.len)
        buf_append_str(&b, "none defined");
    return buf_take(&b, NULL);
}

static size_t find_endpoint(struct route_loader *ld, const char *name)
{
    for (size_t i = 0; i < ld->neps; i++)
        if (strcmp(ld->eps[i].name, name) == 0)
            return i;
    if (ld->bare && strcmp(name, "aws") == 0)
        return add_endpoint(ld, "aws", ROUTE_EP_S3);
    if (ld->bare && strcmp(name, "lakefs") == 0)
        return add_endpoint(ld, "lakefs", ROUTE_EP_LAKEFS);
    return ROUTE_NO_EP;
}

/* The endpoint a route names, or ROUTE_NO_EP (reported, unless the endpoints are unknown anyway).
 */
static size_t resolve_endpoint(struct route_loader *ld, const char *where, const char *name)
{
    size_t i = find_endpoint(ld, name);
    if (i != ROUTE_NO_EP || !ld->eps_ok)
        return i;
    const char *noun = ld->botwo ? "client" : "endpoint";
    const char **names = xcalloc(ld->neps + 3, sizeof *names);
    for (size_t k = 0; k < ld->neps; k++)
        names[k] = ld->eps[k].name;
    if (ld->bare) {
        names[ld->neps] = "aws";
        names[ld->neps + 1] = "lakefs";
    }
    const char *s = suggest(name, names, ld->neps + 2);
    char *all = endpoint_names(ld);
    if (!ld->botwo && strcmp(name, "s3") == 0)
        route_problem(
            ld,
            "%s: \"to\" starts with \"s3://\", but no endpoint is named \"s3\"; the scheme of "
            "\"to\" is the name of an endpoint under \"endpoints\" (here: %s), e.g. "
            "\"%s://bucket/prefix/\"",
            where, all, ld->neps ? ld->eps[0].name : "aws");
    else if (s)
        route_problem(ld, "%s: unknown %s \"%s\" (did you mean \"%s\"?); the %ss are: %s", where,
                      noun, name, s, noun, all);
    else if (ld->bare)
        route_problem(ld,
                      "%s: unknown client \"%s\"; use \"aws\" or \"lakefs\", or define more in "
                      "{\"endpoints\": {...}, \"mappings\": [...]}",
                      where, name);
    else
        route_problem(ld, "%s: unknown %s \"%s\"; define it under \"endpoints\" or use one of: %s",
                      where, noun, name, all);
    free(all);
    free(names);
    return i;
}

static void parse_read_only(struct route_loader *ld, const char *where, json_t *obj,
                            struct route *r)
{
    json_t *v = json_object_get(obj, "read_only");
    if (v && !json_is_boolean(v))
        route_problem(ld,
                      "%s: \"read_only\" must be true or false, not %s; write \"read_only\": true",
                      where, type_name(v));
    r->read_only = v && json_is_true(v);
}

/* Reports a missing or mistyped required string; the string (borrowed) or NULL. */
static const char *required_str(struct route_loader *ld, const char *where, json_t *obj,
                                const char *key, const char *example)
{
    const char *s;
    int rc = get_str(ld, where, obj, key, &s);
    if (rc == 0)
        route_problem(ld, "%s: no \"%s\"; add \"%s\": \"%s\"", where, key, key, example);
    return s;
}

static void parse_route(struct route_loader *ld, size_t i, json_t *v, struct route *r)
{
    char where[64];
    snprintf(where, sizeof where, "routes[%zu]", i);
    if (!json_is_object(v)) {
        route_problem(ld,
                      "%s: must be an object {\"from\": \"s3://bucket/prefix/\", \"to\": "
                      "\"endpoint://bucket/prefix/\"}, not %s; rewrite it",
                      where, type_name(v));
        return;
    }
    check_keys(ld, where, v, route_keys);
    const char *from = required_str(ld, where, v, "from", "s3://bucket/prefix/");
    const char *to = required_str(ld, where, v, "to", "endpoint://bucket/prefix/");
    char *scheme = NULL;
    if (from && split_uri(ld, where, "\"from\"", from, &scheme, &r->from_bucket, &r->from_prefix) &&
        strcmp(scheme, "s3") != 0)
        route_problem(
            ld,
            "%s: \"from\" \"%s\" must start with \"s3://\": it is the bucket and prefix the "
            "caller uses; write \"s3://%s/%s\"",
            where, from, r->from_bucket, r->from_prefix);
    free(scheme);
    scheme = NULL;
    if (to && split_uri(ld, where, "\"to\"", to, &scheme, &r->to_bucket, &r->to_prefix))
        r->endpoint = resolve_endpoint(ld, where, scheme);
    free(scheme);
    parse_read_only(ld, where, v, r);
}

static void parse_mapping(struct route_loader *ld, size_t i, json_t *v, struct route *r)
{
    char where[64];
    snprintf(where, sizeof where, "mappings[%zu]", i);
    if (!json_is_object(v)) {
        route_problem(
            ld,
            "%s: must be an object {\"bucket_name\": \"b\", \"client\": \"name\"}, not %s; "
            "rewrite it",
            where, type_name(v));
        return;
    }
    check_keys(ld, where, v, mapping_keys);
    const char *bucket = required_str(ld, where, v, "bucket_name", "my-bucket");
    const char *client = required_str(ld, where, v, "client", ld->bare ? "aws" : "endpoint");
    const char *mapped, *prefix;
    get_str(ld, where, v, "mapped_bucket_name", &mapped);
    get_str(ld, where, v, "key_prefix", &prefix);
    bool ok = bucket && check_bucket(ld, where, "\"bucket_name\"", bucket);
    if (mapped && !check_bucket(ld, where, "\"mapped_bucket_name\"", mapped))
        ok = false;
    if (prefix && !check_prefix(ld, where, "\"key_prefix\"", prefix, prefix))
        ok = false;
    if (client)
        r->endpoint = resolve_endpoint(ld, where, client);
    parse_read_only(ld, where, v, r);
    if (!ok)
        return;
    r->from_bucket = xstrdup(bucket);
    r->from_prefix = xstrdup("");
    r->to_bucket = xstrdup(mapped ? mapped : bucket);
    r->to_prefix = xstrdup(prefix ? prefix : "");
}

/* Parses a "routes" or "mappings" list; botwo's "*" entries are moved last, in order. */
static void parse_list(struct route_loader *ld, json_t *list)
{
    size_t n = json_array_size(list);
    ld->routes = xcalloc(n, sizeof *ld->routes);
    for (size_t i = 0; i < n; i++) {
        struct route *r = &ld->routes[i];
        r->index = i;
        r->endpoint = ROUTE_NO_EP;
        if (ld->botwo)
            parse_mapping(ld, i, json_array_get(list, i), r);
        else
            parse_route(ld, i, json_array_get(list, i), r);
    }
    ld->nroutes = n;
    if (!ld->botwo)
        return;
    struct route *sorted = xcalloc(n, sizeof *sorted);
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++)
            if (route_is_any(ld->routes[i].from_bucket) == (pass == 1))
                sorted[k++] = ld->routes[i];
    free(ld->routes);
    ld->routes = sorted;
}

/* ---- the file ------------------------------------------------------------------------- */

static void parse_object(struct route_loader *ld, json_t *root)
{
    check_keys(ld, NULL, root, top_keys);
    json_t *eps = json_object_get(root, "endpoints");
    json_t *routes = json_object_get(root, "routes");
    json_t *maps = json_object_get(root, "mappings");
    if (!eps)
        route_problem(ld, "no \"endpoints\"; add the services routes go to, e.g. \"endpoints\": "
                          "{\"aws\": {\"type\": \"s3\"}}");
    else if (!json_is_object(eps))
        route_problem(ld,
                      "\"endpoints\" must be an object of named endpoints, not %s; write e.g. "
                      "\"endpoints\": {\"aws\": {\"type\": \"s3\"}}",
                      type_name(eps));
    else
        parse_endpoints(ld, eps);
    if (routes && maps)
        route_problem(ld, "both \"routes\" and \"mappings\"; keep one list (\"mappings\" is "
                          "botwo's form, \"routes\" spoor's)");
    json_t *list = routes ? routes : maps;
    ld->botwo = !routes && maps;
    const char *name = ld->botwo ? "mappings" : "routes";
    if (!list) {
        route_problem(ld, "no \"routes\"; add a list of routes that ends with the default, e.g. "
                          "\"routes\": [{\"from\": \"s3://*/\", \"to\": \"aws://*/\"}]");
        return;
    }
    if (!json_is_array(list)) {
        route_problem(ld, "\"%s\" must be a list [...], not %s; write the entries in [ ]", name,
                      type_name(list));
        return;
    }
    parse_list(ld, list);
    route_check(ld);
}

static void loader_cleanup(struct route_loader *ld)
{
    struct route_table t = {ld->eps, ld->neps, ld->routes, ld->nroutes};
    route_table_cleanup(&t);
    free(ld->ep_typed);
}

int route_table_parse(const char *json, size_t len, const char *source, struct route_table *t,
                      struct route_problems *problems)
{
    *t = (struct route_table){0};
    *problems = (struct route_problems){0};
    struct route_loader ld = {.source = source ? source : "routes file", .pr = problems};
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root) {
        raw_problem(problems, "%s:%d:%d: not valid JSON: %s; correct the file there", ld.source,
                    jerr.line, jerr.column, jerr.text);
        return SPOOR_E_CONFIG;
    }
    if (json_is_array(root)) {
        ld.botwo = ld.bare = ld.eps_ok = true;
        parse_list(&ld, root);
        route_check(&ld);
    } else if (json_is_object(root)) {
        parse_object(&ld, root);
    } else {
        route_problem(&ld,
                      "the file holds %s; write an object {\"endpoints\": {...}, \"routes\": "
                      "[...]} (or botwo's list of mappings)",
                      type_name(root));
    }
    json_decref(root);
    if (problems->n) {
        loader_cleanup(&ld);
        return SPOOR_E_CONFIG;
    }
    free(ld.ep_typed);
    *t = (struct route_table){ld.eps, ld.neps, ld.routes, ld.nroutes};
    return 0;
}

int route_table_load(const char *path, struct route_table *t, struct route_problems *problems)
{
    *t = (struct route_table){0};
    *problems = (struct route_problems){0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        raw_problem(problems, "%s: cannot open: %s; check the path (SPOOR_ROUTES or --routes)",
                    path, strerror(errno));
        return SPOOR_E_CONFIG;
    }
    struct buf b;
    buf_init(&b, FILE_MAX_BYTES);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&b, chunk, n);
    int read_err = ferror(f) ? errno : 0;
    fclose(f);
    if (rc || read_err) {
        raw_problem(problems, "%s: cannot read: %s; %s", path,
                    rc ? "larger than 16 MiB" : strerror(read_err),
                    rc ? "a routes file is a few kilobytes: is this the right file?"
                       : "check the file and its permissions");
        buf_cleanup(&b);
        return SPOOR_E_CONFIG;
    }
    rc = route_table_parse(b.data ? b.data : "", b.len, path, t, problems);
    buf_cleanup(&b);
    return rc;
}
