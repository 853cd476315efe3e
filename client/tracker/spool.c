/*
 * spool.c: objects on disk until the endpoint has them.
 *
 * One file per object, named "<20-digit CLOCK_REALTIME ns>-<pid>-<n>.spool" so that names sort
 * in the order objects were made. A file is written under a temporary name, synced and renamed,
 * so it is whole or absent, also after a crash. Format:
 *
 *   SPOOR-SPOOL 1\n
 *   {"bucket":"..","key":"..","metadata":[["name","value"],..],"body_bytes":N}\n
 *   <N bytes of body>
 *
 * A file that does not parse is left where it is and reported; it is never deleted unread.
 */
#include "spool.h"

#include <stdint.h>

#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAGIC "SPOOR-SPOOL 1\n"

void spool_obj_cleanup(struct spool_obj *o)
{
    free(o->path), free(o->bucket), free(o->key), free(o->body);
    for (size_t i = 0; i < o->nmeta; i++) {
        free(o->meta_names[i]);
        free(o->meta_values[i]);
    }
    free(o->meta_names), free(o->meta_values);
    memset(o, 0, sizeof *o);
}

int spool_mkdirs(const char *dir, struct spoor_error *err)
{
    char path[4096];
    if (!str_copy(path, sizeof path, dir))
        return spoor_error_set(err, SPOOR_E_CONFIG, "spool directory path too long");
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(path, 0700) != 0 && errno != EEXIST)
                return spoor_error_set(err, -errno, "cannot create spool directory %s: %s", path,
                                       strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK) != 0)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "spool directory %s is not a writable directory", dir);
    return 0;
}

static char *header_json(const struct spool_obj *o)
{
    json_t *meta = json_array();
    for (size_t i = 0; i < o->nmeta; i++)
        json_array_append_new(meta, json_pack("[ss]", o->meta_names[i], o->meta_values[i]));
    json_t *h =
        json_pack("{s:s, s:s, s:o, s:I, s:I}", "bucket", o->bucket, "key", o->key, "metadata", meta,
                  "events", (json_int_t)o->nevents, "body_bytes", (json_int_t)o->body_len);
    char *s = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    return s;
}

int spool_write(const char *dir, struct spool_obj *o, struct spoor_error *err)
{
    static uint64_t counter;
    char tmp[4200], final[4200];
    snprintf(tmp, sizeof tmp, "%s/.tmp-XXXXXX", dir);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return spoor_error_set(err, -errno, "cannot write to spool %s: %s", dir, strerror(errno));
    char *h = header_json(o);
    int rc = h ? 0 : -ENOMEM;
    if (!rc)
        rc = write_all(fd, MAGIC, strlen(MAGIC));
    if (!rc)
        rc = write_all(fd, h, strlen(h));
    if (!rc)
        rc = write_all(fd, "\n", 1);
    if (!rc)
        rc = write_all(fd, o->body, o->body_len);
    if (!rc && fsync(fd) != 0)
        rc = -errno;
    close(fd);
    free(h);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(final, sizeof final, "%s/%020lld-%d-%llu.spool", dir,
             (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (int)getpid(),
             (unsigned long long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    if (!rc && rename(tmp, final) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp);
        return spoor_error_set(err, rc, "cannot write to spool %s: %s", dir, spoor_strerror(rc));
    }
    free(o->path);
    o->path = xstrdup(final);
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, (size_t)5 << 30);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n) != 0)
            break;
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_cleanup(&b);
        return NULL;
    }
    return buf_take(&b, len);
}

static int parse_header(json_t *h, struct spool_obj *o)
{
    json_t *meta = json_object_get(h, "metadata");
    const char *bucket = json_string_value(json_object_get(h, "bucket"));
    const char *key = json_string_value(json_object_get(h, "key"));
    if (!bucket || !key || !json_is_array(meta) || json_array_size(meta) > 16)
        return SPOOR_E_PARSE;
    o->bucket = xstrdup(bucket);
    o->key = xstrdup(key);
    json_int_t events = json_integer_value(json_object_get(h, "events"));
    o->nevents = events > 0 ? (uint64_t)events : 0;
    size_t n = json_array_size(meta);
    o->meta_names = xcalloc(n ? n : 1, sizeof *o->meta_names);
    o->meta_values = xcalloc(n ? n : 1, sizeof *o->meta_values);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(json_array_get(meta, i), 0));
        const char *value = json_string_value(json_array_get(json_array_get(meta, i), 1));
        if (!name || !value)
            return SPOOR_E_PARSE;
        o->meta_names[i] = xstrdup(name);
        o->meta_values[i] = xstrdup(value);
        o->nmeta++;
    }
    return 0;
}

int spool_read(const char *path, struct spool_obj *o, struct spoor_error *err)
{
    memset(o, 0, sizeof *o);
    size_t len = 0;
    char *data = read_file(path, &len);
    if (!data)
        return spoor_error_set(err, -errno, "cannot read spool file %s", path);
    size_t m = strlen(MAGIC);
    char *nl = len > m && memcmp(data, MAGIC, m) == 0 ? memchr(data + m, '\n', len - m) : NULL;
    json_t *h = nl ? json_loadb(data + m, (size_t)(nl - data - (ptrdiff_t)m), 0, NULL) : NULL;
    size_t body_off = nl ? (size_t)(nl - data) + 1 : 0;
    int rc = h ? parse_header(h, o) : SPOOR_E_PARSE;
    json_int_t want = h ? json_integer_value(json_object_get(h, "body_bytes")) : -1;
    if (!rc && (want < 0 || (size_t)want != len - body_off))
        rc = SPOOR_E_PARSE;
    if (!rc) {
        o->body = xmalloc(len - body_off + 1);
        memcpy(o->body, data + body_off, len - body_off);
        o->body_len = len - body_off;
        o->path = xstrdup(path);
    }
    json_decref(h);
    free(data);
    if (rc) {
        spool_obj_cleanup(o);
        char aside[4200];
        snprintf(aside, sizeof aside, "%s.damaged", path);
        rename(path, aside);
        return spoor_error_set(err, rc,
                               "spool file %s is damaged (bad header or length); set aside as "
                               "%s",
                               path, aside);
    }
    return 0;
}

uint64_t spool_count(const char *dir)
{
    char **paths;
    size_t n;
    if (spool_list(dir, &paths, &n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return n;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_list(const char *dir, char ***paths, size_t *n)
{
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    size_t cap = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (!str_has_suffix(de->d_name, ".spool") || de->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *paths = xrealloc(*paths, cap * sizeof **paths);
        }
        size_t len = strlen(dir) + strlen(de->d_name) + 2;
        char *p = xmalloc(len);
        snprintf(p, len, "%s/%s", dir, de->d_name);
        (*paths)[(*n)++] = p;
    }
    closedir(d);
    if (*n)
        qsort(*paths, *n, sizeof **paths, cmp_name);
    return 0;
}
