/*
 * spool.h: the tracker's spool, objects kept on disk until the endpoint has them (spool.c).
 * Kept apart from tracker_int.h so that spool.c, which uses jansson, does not meet the JSON
 * kinds of json.h.
 */
#ifndef SPOOR_SPOOL_H
#define SPOOR_SPOOL_H

#include <spoor/error.h>

#include <stddef.h>
#include <stdint.h>

struct spool_obj {
    char *path; /* the spool file */
    char *bucket;
    char *key;
    char **meta_names, **meta_values;
    size_t nmeta;
    char *body;
    size_t body_len;
    uint64_t nevents; /* event lines in the body (0 for graph and metadata) */
};

/* Writes obj (without path) to a new file in dir, atomically; fills obj->path. */
int spool_write(const char *dir, struct spool_obj *obj, struct spoor_error *err);
/* Reads a spool file. A file that does not parse is renamed to <name>.damaged (no longer
 * listed, kept for a person to look at) and reported. */
int spool_read(const char *path, struct spool_obj *obj, struct spoor_error *err);
/* Names of the spool files in dir, oldest first (new; free each and the array). */
int spool_list(const char *dir, char ***paths, size_t *n);
void spool_obj_cleanup(struct spool_obj *obj);
/* Number of spool files in dir waiting to be sent (0 when it cannot be read). */
uint64_t spool_count(const char *dir);
/* Creates dir and its parents (0700). */
int spool_mkdirs(const char *dir, struct spoor_error *err);

#endif
