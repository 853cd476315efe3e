/*
 * config.c: the server's settings from the environment and argv (see config.h).
 *
 * One table describes every setting: its variable, its flag, its kind (string, integer with a
 * range, boolean, file name) and where it lives in struct server_config. Loading is three
 * passes over that table: defaults, environment, flags; then the server root is expanded and
 * the derived paths composed. Nothing here reads the process environment, touches a file or
 * exits: the caller prints the problems and decides.
 *
 * Invariant: every problem found is appended as one line to a growable buffer; a value that is
 * refused leaves the field at its previous (default or environment) value.
 */
#include "config.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spoor/error.h>

enum kind { K_STR, K_INT, K_BOOL, K_FILENAME };

struct setting {
    const char *env;  /* variable name, or NULL for flag-only settings */
    const char *flag; /* "--flag", or NULL for environment-only settings */
    enum kind kind;
    size_t off;       /* offset in struct server_config */
    size_t size;      /* K_STR, K_FILENAME: field size in bytes */
    long min, max;    /* K_INT: range; K_STR: min 1 means non-empty */
    const char *what; /* K_INT: what is expected, for messages */
};

#define OFF(f) offsetof(struct server_config, f)
#define SZ(f) sizeof(((struct server_config *)0)->f)
#define STR(e, fl, f, mn)                                                                          \
    {                                                                                              \
        e, fl, K_STR, OFF(f), SZ(f), mn, 0, NULL                                                   \
    }
#define INT(e, fl, f, mn, mx, w)                                                                   \
    {                                                                                              \
        e, fl, K_INT, OFF(f), 0, mn, mx, w                                                         \
    }
#define BOOL(e, fl, f)                                                                             \
    {                                                                                              \
        e, fl, K_BOOL, OFF(f), 0, 0, 0, NULL                                                       \
    }

static const struct setting settings[] = {
    STR("BURR_S3_BUCKET", "--bucket", bucket, 0),
    INT("BURR_UPDATE_INTERVAL_MILLISECONDS", "--interval-ms", update_interval_ms, 100, INT_MAX,
        "a positive integer (milliseconds)"),
    INT("BURR_AWS_MAX_CONCURRENCY", NULL, max_concurrency, 1, 1000,
        "a positive integer (parallel requests)"),
    INT("BURR_SNAPSHOT_INTERVAL_MILLISECONDS", "--snapshot-interval-ms", snapshot_interval_ms, 100,
        INT_MAX, "a positive integer (milliseconds)"),
    BOOL("BURR_LOAD_SNAPSHOT_ON_START", NULL, load_snapshot_on_start),
    INT("BURR_PRIOR_SNAPSHOTS_TO_KEEP", NULL, prior_snapshots_to_keep, 1, INT_MAX,
        "a positive integer (snapshots)"),
    STR("BURR_SERVER_ROOT", "--root", server_root, 1),
    {"BURR_DB_FILENAME", NULL, K_FILENAME, OFF(db_filename), SZ(db_filename), 1, 0, NULL},
    STR("SPOOR_ROUTES", "--routes", routes_path, 0),
    INT("SPOOR_LOOKBACK_SECONDS", "--lookback-seconds", lookback_s, 0, INT_MAX,
        "a non-negative integer (seconds)"),
    STR("SPOOR_HOST", "--host", host, 1),
    INT("SPOOR_PORT", "--port", port, 1, 65535, "a port number"),
    STR("SPOOR_UI_DIR", "--ui-dir", ui_dir, 0),
    STR("SPOOR_SERVER_ID", "--server-id", server_id, 0),
    STR("SPOOR_AUTH_TOKEN", NULL, auth_token, 0),
    INT("SPOOR_BATCH_CAP", "--batch-cap", batch_cap, 1, 1000000,
        "a positive integer (objects per batch)"),
    BOOL("SPOOR_SNAPSHOT_ON_EXIT", "--snapshot-on-exit", snapshot_on_exit),
    BOOL(NULL, "--once", once),
    BOOL(NULL, "--help", help),
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* The problem lines: a growable string. Allocation failure aborts (STYLE.md). */
struct plist {
    char *s;
    size_t len, cap;
    int count;
};

static void problem(struct plist *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct plist *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    size_t need = p->len + (size_t)n + 2;
    if (need > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < need)
            cap *= 2;
        char *s = realloc(p->s, cap);
        if (!s)
            abort();
        p->s = s;
        p->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(p->s + p->len, p->cap - p->len, fmt, ap);
    va_end(ap);
    p->len += (size_t)n;
    p->s[p->len++] = '\n';
    p->s[p->len] = '\0';
    p->count++;
}

/* Strict decimal: optional '-', digits, nothing else; -1 when it is not a number, -2 when it
 * does not fit in a long. */
static int parse_long(const char *v, long *out)
{
    const char *d = v[0] == '-' ? v + 1 : v;
    if (!isdigit((unsigned char)d[0]))
        return -1;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*end != '\0')
        return -1;
    if (errno == ERANGE)
        return -2;
    *out = n;
    return 0;
}

/* Pydantic's boolean spellings, case-insensitive. -1 when v is none of them. */
static int parse_bool(const char *v)
{
    static const char *const yes[] = {"true", "1", "yes", "on", "t", "y"};
    static const char *const no[] = {"false", "0", "no", "off", "f", "n"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return 1;
        if (strcasecmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

static void set_int(int *field, const struct setting *s, const char *src, const char *v,
                    struct plist *p)
{
    long n = 0;
    int rc = parse_long(v, &n);
    if (rc == -1) {
        problem(p, "%s: expected %s, found \"%s\"", src, s->what, v);
    } else if (rc == -2 || n < s->min || n > s->max) {
        if (s->max == INT_MAX)
            problem(p, "%s: expected %s >= %ld, found \"%s\"", src, s->what, s->min, v);
        else
            problem(p, "%s: expected %s from %ld to %ld, found \"%s\"", src, s->what, s->min,
                    s->max, v);
    } else {
        *field = (int)n;
    }
}

static void set_str(char *field, const struct setting *s, const char *src, const char *v,
                    struct plist *p)
{
    size_t len = strlen(v);
    if (s->min > 0 && len == 0) {
        problem(p, "%s: expected a non-empty value, found \"\"", src);
    } else if (len >= s->size) {
        problem(p, "%s: expected at most %zu bytes, found %zu bytes", src, s->size - 1, len);
    } else if (s->kind == K_FILENAME &&
               (strchr(v, '/') || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)) {
        problem(p, "%s: expected a file name without '/', found \"%s\"", src, v);
    } else {
        memcpy(field, v, len + 1);
    }
}

/* Stores value v (from src: a variable or flag name) into the field s describes. */
static void apply(struct server_config *cfg, const struct setting *s, const char *src,
                  const char *v, struct plist *p)
{
    char *field = (char *)cfg + s->off;
    if (s->kind == K_INT) {
        set_int((int *)(void *)field, s, src, v, p);
    } else if (s->kind == K_BOOL) {
        int b = parse_bool(v);
        if (b < 0)
            problem(p, "%s: expected true or false (also 1/0, yes/no, on/off), found \"%s\"", src,
                    v);
        else
            *(bool *)(void *)field = b == 1;
    } else {
        set_str(field, s, src, v, p);
    }
}

static void set_defaults(struct server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->update_interval_ms = 120000;
    cfg->max_concurrency = 100;
    cfg->snapshot_interval_ms = 3600000;
    cfg->load_snapshot_on_start = true;
    cfg->prior_snapshots_to_keep = 5;
    str_copy(cfg->server_root, sizeof cfg->server_root, "~/.burr_server");
    str_copy(cfg->db_filename, sizeof cfg->db_filename, "db.sqlite3");
    cfg->lookback_s = 600;
    str_copy(cfg->host, sizeof cfg->host, "127.0.0.1");
    cfg->port = 7241;
    cfg->batch_cap = 1000;
}

static const struct setting *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *f = settings[i].flag;
        if (f && strlen(f) == len && strncmp(f, name, len) == 0)
            return &settings[i];
    }
    return NULL;
}

/* Parses argv[1..argc); sets *root_src to the flag when a flag set the server root. */
static void load_flags(struct server_config *cfg, int argc, char **argv, struct plist *p,
                       const char **root_src)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            problem(p, "argument \"%s\": expected a flag (see --help), found a bare value", a);
            continue;
        }
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const struct setting *s = find_flag(a, nlen);
        if (!s) {
            problem(p, "%.*s: expected a known flag (see --help), found an unknown flag", (int)nlen,
                    a);
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && s->kind == K_BOOL) {
            v = "true";
        } else if (!v) {
            if (i + 1 >= argc) {
                problem(p, "%s: expected a value, found the end of the arguments", s->flag);
                continue;
            }
            v = argv[++i];
        }
        apply(cfg, s, s->flag, v, p);
        if (s->off == OFF(server_root))
            *root_src = s->flag;
    }
}

/* Expands a leading "~" or "~/" in server_root from HOME (looked up through get). */
static void expand_root(struct server_config *cfg, config_getenv_fn get, void *ud, const char *src,
                        struct plist *p)
{
    const char *r = cfg->server_root;
    if (r[0] != '~' || (r[1] != '\0' && r[1] != '/'))
        return;
    const char *home = get ? get("HOME", ud) : NULL;
    if (!home || !home[0]) {
        problem(p, "%s: expected HOME to be set to expand '~' in \"%s\", found HOME unset", src, r);
        return;
    }
    char out[sizeof(cfg->server_root)];
    int n = snprintf(out, sizeof(out), "%s%s", home, r + 1);
    if (n < 0 || (size_t)n >= sizeof(out)) {
        problem(p, "%s: expected at most %zu bytes after expanding '~', found %d bytes", src,
                sizeof(out) - 1, n);
        return;
    }
    memcpy(cfg->server_root, out, (size_t)n + 1);
}

/* db_path and store_root under server_root; one '/' between, even when the root ends in one. */
static void compose_paths(struct server_config *cfg, const char *src, struct plist *p)
{
    const char *r = cfg->server_root;
    size_t len = strlen(r);
    const char *sep = len > 0 && r[len - 1] == '/' ? "" : "/";
    int n = snprintf(cfg->db_path, sizeof(cfg->db_path), "%s%s%s", r, sep, cfg->db_filename);
    if (n < 0 || (size_t)n >= sizeof(cfg->db_path))
        problem(p, "%s: expected a database path of at most %zu bytes, found %d bytes", src,
                sizeof(cfg->db_path) - 1, n);
    n = snprintf(cfg->store_root, sizeof(cfg->store_root), "%s%sobjects", r, sep);
    if (n < 0 || (size_t)n >= sizeof(cfg->store_root))
        problem(p, "%s: expected a store path of at most %zu bytes, found %d bytes", src,
                sizeof(cfg->store_root) - 1, n);
}

int server_config_load(struct server_config *cfg, config_getenv_fn get, void *ud, int argc,
                       char **argv, char **problems)
{
    struct plist p = {0};
    const char *root_src = "BURR_SERVER_ROOT";
    set_defaults(cfg);
    for (size_t i = 0; get && i < NSETTINGS; i++) {
        const char *v = settings[i].env ? get(settings[i].env, ud) : NULL;
        if (v)
            apply(cfg, &settings[i], settings[i].env, v, &p);
    }
    load_flags(cfg, argc, argv, &p, &root_src);
    expand_root(cfg, get, ud, root_src, &p);
    compose_paths(cfg, root_src, &p);
    if (problems)
        *problems = p.s;
    else
        free(p.s);
    return p.count ? SPOOR_E_CONFIG : 0;
}

const char *server_config_usage(void)
{
    return "usage: spoor-server [flags]\n"
           "\n"
           "Indexes Burr's S3 tracking data and serves Burr's tracking API.\n"
           "Flags override the environment variable in brackets.\n"
           "\n"
           "  --bucket NAME              [BURR_S3_BUCKET] bucket; unset: local store under root\n"
           "  --root DIR                 [BURR_SERVER_ROOT] index location (~/.burr_server)\n"
           "  --routes FILE              [SPOOR_ROUTES] router configuration file\n"
           "  --host ADDR                [SPOOR_HOST] listen address (127.0.0.1)\n"
           "  --port N                   [SPOOR_PORT] listen port (7241)\n"
           "  --interval-ms N            [BURR_UPDATE_INTERVAL_MILLISECONDS] (120000)\n"
           "  --snapshot-interval-ms N   [BURR_SNAPSHOT_INTERVAL_MILLISECONDS] (3600000)\n"
           "  --lookback-seconds N       [SPOOR_LOOKBACK_SECONDS] re-list window (600)\n"
           "  --batch-cap N              [SPOOR_BATCH_CAP] objects per batch (1000)\n"
           "  --ui-dir DIR               [SPOOR_UI_DIR] UI files (found automatically)\n"
           "  --server-id ID             [SPOOR_SERVER_ID] (derived from the hostname)\n"
           "  --snapshot-on-exit         [SPOOR_SNAPSHOT_ON_EXIT] snapshot before exiting\n"
           "  --once                     index once and exit\n"
           "  --help                     print this text and exit\n"
           "\n"
           "Environment only: BURR_AWS_MAX_CONCURRENCY (100), BURR_LOAD_SNAPSHOT_ON_START (true),\n"
           "BURR_PRIOR_SNAPSHOTS_TO_KEEP (5), BURR_DB_FILENAME (db.sqlite3), SPOOR_AUTH_TOKEN\n"
           "(unset: no token; set: /ready, /metrics and /api/ need \"Authorization: Bearer\n"
           "<token>\"); AWS_* and LAKECTL_* for credentials, region and endpoint.\n"
           "Values: \"--flag value\" or \"--flag=value\"; booleans true/false, 1/0, yes/no.\n";
}
