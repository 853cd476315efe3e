/*
 * route.h: the route table of the bucket/prefix router (../shared/spec/router.md), as a pure
 * module: loading and checking the JSON configuration, matching a caller's (bucket, key) to a
 * route, and translating keys forward (caller -> endpoint) and back (endpoint -> caller).
 * No socket, no clock, no environment variables: credentials are only described here
 * (which variables or profile to read), and resolved by the router.
 *
 * Vocabulary: a route maps the caller's namespace (from_bucket, from_prefix) to an endpoint's
 * namespace (endpoint, to_bucket, to_prefix). Prefixes are literal byte prefixes, "" or ending
 * in '/'. "*" as from_bucket matches any bucket (last route only); "*" as to_bucket keeps the
 * caller's bucket.
 *
 * Invariants of a loaded table (checked by route_table_parse, which lists every violation):
 *  - every route names a defined endpoint; the last route is the default "s3://" + "*" + "/";
 *  - order is specific to general: no route is shadowed by an earlier, less specific one
 *    (same bucket, earlier from_prefix a proper prefix of the later one), so the first match
 *    is also the most specific match;
 *  - no two routes on the same endpoint have overlapping targets (same to_bucket and one
 *    to_prefix a prefix of the other), so reverse translation is unambiguous;
 *  - lakeFS targets: bucket is a valid repository name (^[a-z0-9][a-z0-9-]{2,62}$, not "*"
 *    unless every caller bucket is one), to_prefix starts with a ref segment ("main/");
 *    a writable route's ref is a valid branch name (^\w[-\w]*$).
 */
#ifndef SPOOR_ROUTE_H
#define SPOOR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include <spoor/s3.h>

enum route_endpoint_type { ROUTE_EP_S3, ROUTE_EP_LAKEFS, ROUTE_EP_FILE };

/* Where an endpoint's credentials come from. All "" means the type's standard chain:
 * s3: AWS_* variables, then the shared credentials file (with profile when set);
 * lakefs: LAKECTL_CREDENTIALS_* variables, then ~/.lakectl.yaml. */
struct route_creds_spec {
    char profile[128];
    char access_key_id_env[128];
    char secret_access_key_env[128];
    char session_token_env[128];
};

struct route_endpoint {
    char name[64];
    enum route_endpoint_type type;
    char url[512];   /* s3/lakefs: "" means the default (AWS, AWS_ENDPOINT_URL*, LAKECTL_*) */
    char region[64]; /* "" means the default (lakefs: always us-east-1) */
    enum spoor_s3_addressing addressing; /* lakefs: always path */
    struct route_creds_spec creds;
    char root[1024]; /* file: the directory holding <bucket>/<key> */
};

struct route {
    size_t index;      /* 0-based position in the file, for messages */
    char *from_bucket; /* "*" = any */
    char *from_prefix; /* "" or ends with '/' */
    size_t endpoint;   /* index into route_table.endpoints */
    char *to_bucket;   /* "*" = the caller's bucket */
    char *to_prefix;   /* "" or ends with '/' */
    bool read_only;
};

struct route_table {
    struct route_endpoint *endpoints;
    size_t nendpoints;
    struct route *routes;
    size_t nroutes;
};

/* Every problem found while loading, one message each: "routes[2]: ...: <how to mend>". */
struct route_problems {
    char **msgs;
    size_t n;
};

/* Parses and checks a configuration: either {"endpoints": {...}, "routes": [...]} (spoor's
 * format) or botwo's mapping list, as {"endpoints": {...}, "mappings": [...]} or a bare list
 * [...], whose entries {bucket_name, mapped_bucket_name, client, key_prefix} become routes
 * (bucket_name "*" is the default; a bare list may name the implicit endpoints "aws" and
 * "lakefs"). source names the file in messages. On any problem returns SPOOR_E_CONFIG, fills
 * problems (new; route_problems_cleanup) and leaves *t empty. */
int route_table_parse(const char *json, size_t len, const char *source, struct route_table *t,
                      struct route_problems *problems);
/* Reads path and parses it; an unreadable file is one problem naming the file. */
int route_table_load(const char *path, struct route_table *t, struct route_problems *problems);
void route_table_cleanup(struct route_table *t);
void route_problems_cleanup(struct route_problems *p);

/* The implicit tables used when there is no configuration file: everything to an s3
 * endpoint named "aws" with the standard chain, or to a file endpoint "local" at root. */
void route_table_default_s3(struct route_table *t);
void route_table_default_file(struct route_table *t, const char *root);

/* First route whose bucket matches and whose from_prefix is a prefix of key (a list prefix
 * counts as a key). Never NULL for a loaded table (the default matches everything). */
const struct route *route_match(const struct route_table *t, const char *bucket, const char *key);

/* The endpoint bucket for caller bucket under r (borrowed: r's or bucket itself). */
const char *route_target_bucket(const struct route *r, const char *bucket);
/* to_prefix + key[len(from_prefix):] (new). key must start with from_prefix. */
char *route_key_forward(const struct route *r, const char *key);
/* from_prefix + key[len(to_prefix):] (new), or NULL when key does not start with to_prefix. */
char *route_key_reverse(const struct route *r, const char *key);

/* How a caller's StartAfter s, listed under r with a list prefix inside r, is sent on. */
enum route_start { ROUTE_START_OMIT, ROUTE_START_SEND, ROUTE_START_EMPTY };
/* OMIT: s sorts before every key of r (send nothing); SEND: *out (new) is the translated key;
 * EMPTY: s sorts after every key of r, the answer is an empty, untruncated list. */
enum route_start route_start_after(const struct route *r, const char *s, char **out);

/* Routes other than `matched` whose caller range lies inside a listing of (bucket, prefix):
 * same bucket (or matched is the "*" default and the route names this bucket), and from_prefix
 * starts with prefix and differs from matched's. Fills out[0..cap) in table order and returns
 * how many there are. */
size_t route_nested(const struct route_table *t, const char *bucket, const char *prefix,
                    const struct route *matched, const struct route **out, size_t cap);

/* "<endpoint>://<bucket>/<key>" of the translated target, for explain and messages (new). */
char *route_describe_target(const struct route_table *t, const struct route *r, const char *bucket,
                            const char *key);

#endif
