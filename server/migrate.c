/*
 * migrate.c: applies the embedded migrations (see migrate.h). Each runs as
 *   BEGIN IMMEDIATE; <file>; PRAGMA user_version = N; COMMIT
 * and is rolled back as a whole when any statement fails.
 */
#include "migrate.h"

#include <stdio.h>

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
    *v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int apply_one(sqlite3 *db, const struct migration *m, struct spoor_error *err)
{
    char *msg = NULL;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, m->sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, pragma, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return 0;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    spoor_error_set(err, SPOOR_E_CONFIG, "migration %s failed: %s; the index stays at version %d",
                    m->name, msg ? msg : sqlite3_errmsg(db), m->version - 1);
    sqlite3_free(msg);
    return SPOOR_E_CONFIG;
}

int migrate_apply(sqlite3 *db, const struct migration *m, size_t n, int *from, int *to,
                  struct spoor_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].version != (int)i + 1)
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "migration %s has version %d where %zu was expected: "
                                   "versions must be 1, 2, ... without gaps",
                                   m[i].name, m[i].version, i + 1);
    int v;
    if (user_version(db, &v) != 0)
        return spoor_error_set(err, SPOOR_E_CONFIG, "cannot read the index's version: %s",
                               sqlite3_errmsg(db));
    if (from)
        *from = v;
    if (v > (int)n)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "the index is at version %d, newer than this server knows (%zu): "
                               "run a newer spoor-server, or start from an empty index",
                               v, n);
    for (size_t i = (size_t)v; i < n; i++) {
        int rc = apply_one(db, &m[i], err);
        if (rc)
            return rc;
        v = m[i].version;
    }
    if (to)
        *to = v;
    return 0;
}
