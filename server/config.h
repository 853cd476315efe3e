/*
 * config.h: the server's configuration, read from the environment and the command line.
 *
 * Burr's variables (burr-compat.md section 7) keep their names, types and defaults; spoor's own
 * carry the SPOOR_ prefix (DESIGN.md, "Configuration (server)"). Flags override the
 * environment. Pure: the module reads only what it is given (an environment lookup function and
 * argv), so tests are hermetic and the program decides where the environment comes from.
 */
#ifndef SPOOR_SERVER_CONFIG_H
#define SPOOR_SERVER_CONFIG_H

#include <stdbool.h>

struct server_config {
    char bucket[256];            /* BURR_S3_BUCKET; "" means the embedded local store */
    int update_interval_ms;      /* BURR_UPDATE_INTERVAL_MILLISECONDS, default 120000 */
    int max_concurrency;         /* BURR_AWS_MAX_CONCURRENCY, default 100 */
    int snapshot_interval_ms;    /* BURR_SNAPSHOT_INTERVAL_MILLISECONDS, default 3600000 */
    bool load_snapshot_on_start; /* BURR_LOAD_SNAPSHOT_ON_START, default true */
    int prior_snapshots_to_keep; /* BURR_PRIOR_SNAPSHOTS_TO_KEEP, default 5 */
    char server_root[1024];      /* BURR_SERVER_ROOT or --root, default ~/.burr_server */
    char db_filename[256];       /* BURR_DB_FILENAME, default db.sqlite3 (no '/') */
    char db_path[1300];          /* server_root/db_filename */
    char store_root[1100];       /* server_root/objects: the embedded local store */
    char routes_path[1024];      /* SPOOR_ROUTES or --routes, default "" (none) */
    int lookback_s;              /* SPOOR_LOOKBACK_SECONDS or --lookback-seconds, default 600 */
    char host[256];              /* SPOOR_HOST or --host, default 127.0.0.1 */
    int port;                    /* SPOOR_PORT or --port, default 7241 */
    char ui_dir[1024];           /* SPOOR_UI_DIR or --ui-dir, default "" (found later) */
    char auth_token[256];        /* SPOOR_AUTH_TOKEN (environment only, not in argv), "" none */
    char server_id[128];         /* SPOOR_SERVER_ID or --server-id, default "" (derived later) */
    int batch_cap;               /* SPOOR_BATCH_CAP or --batch-cap, default 1000 */
    bool snapshot_on_exit;       /* SPOOR_SNAPSHOT_ON_EXIT or --snapshot-on-exit, default false */
    bool once;                   /* --once: index once and exit (for tests and cron) */
    bool help;                   /* --help */
};

/* Returns the value of the environment variable name, or NULL when it is unset. The string is
 * borrowed: it must stay valid until server_config_load returns. */
typedef const char *(*config_getenv_fn)(const char *name, void *ud);

/*
 * Fills *cfg: first the defaults, then the environment (looked up through get(name, ud); a
 * NULL get means an empty environment), then argv[1..argc) (argv[0] is the program name).
 *
 * Flags: --bucket, --port, --host, --routes, --root, --ui-dir, --server-id, --interval-ms,
 * --lookback-seconds, --batch-cap, --snapshot-interval-ms take a value, as "--flag value" or
 * "--flag=value". --snapshot-on-exit, --once and --help take none, or a boolean as
 * "--flag=value".
 *
 * Values: integers are decimal, without spaces, checked against their range (intervals
 * >= 100 ms, ports 1..65535, concurrency 1..1000, prior snapshots >= 1, lookback >= 0,
 * batch cap 1..1000000). Booleans are pydantic's spellings, case-insensitive: true/false,
 * 1/0, yes/no, on/off, t/f, y/n. A leading "~" or "~/" in the server root is HOME.
 * BURR_DB_FILENAME is a file name (no '/'). Strings longer than their field are refused.
 *
 * Every problem is collected, not just the first. Returns 0 with *problems = NULL, or
 * SPOOR_E_CONFIG with *problems (new: caller frees) holding one '\n'-terminated line per
 * problem, naming the variable or flag, what was expected and what was found. cfg is filled
 * as far as possible either way. problems may be NULL when the caller wants no detail.
 */
int server_config_load(struct server_config *cfg, config_getenv_fn get, void *ud, int argc,
                       char **argv, char **problems);

/* The usage text, listing flags and variables (static). */
const char *server_config_usage(void);

#endif
