/*
 * migrate.h: forward-only schema migrations for the SQLite index. The SQL files
 * migrations/NNNN_name.sql are embedded at build time (spoor_migrations, in version order);
 * PRAGMA user_version is the schema version. Each migration runs in its own transaction, so a
 * failure leaves the database at the previous version.
 */
#ifndef SPOOR_MIGRATE_H
#define SPOOR_MIGRATE_H

#include <spoor/error.h>

#include <sqlite3.h>
#include <stddef.h>

struct migration {
    int version;      /* NNNN of the file name */
    const char *name; /* the file name, for messages */
    const char *sql;
};

extern const struct migration spoor_migrations[];
extern const size_t spoor_nmigrations;

/* Applies, in order, every migration of m[0..n) newer than the database's user_version.
 * Versions must be 1, 2, ... n without gaps. *from and *to (may be NULL) get the versions
 * before and after. A database newer than the newest migration is refused (SPOOR_E_CONFIG),
 * as is a failing migration (its file named, the SQLite message quoted). */
int migrate_apply(sqlite3 *db, const struct migration *m, size_t n, int *from, int *to,
                  struct spoor_error *err);

#endif
