/*
 * idx_int.h: what idx.c (writes) and idx_read.c (the API's reads) share: the handle, statement
 * caches and small helpers. Nothing outside the index module includes this.
 */
#ifndef SPOOR_IDX_INT_H
#define SPOOR_IDX_INT_H

#include <sqlite3.h>

#include "idx.h"

#define IDX_WRITE_STMTS 24
#define IDX_READ_STMTS 24

struct idx {
    sqlite3 *db;
    sqlite3_stmt *st[IDX_WRITE_STMTS]; /* idx.c's, prepared at open */
    sqlite3_stmt *rd[IDX_READ_STMTS];  /* idx_read.c's, prepared on first use */
    char path[1024];
};

/* The current time as ISO 8601 UTC with microseconds and Z. */
void idx_now_iso(char out[64]);
/* Fills err with what failed and SQLite's message, naming the index file; returns the code. */
int idx_db_error(struct idx *x, struct spoor_error *err, const char *what);
/* Binds s as text, or NULL. */
void idx_bind_text(sqlite3_stmt *st, int i, const char *s);

#endif
