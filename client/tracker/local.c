/*
 * local.c: Burr's local tracking layout, for running without S3:
 *
 *   <root>/<project>/<app_id>/log.jsonl       one compact event per line, appended
 *   <root>/<project>/<app_id>/graph.json      json.dump style, written only if absent
 *   <root>/<project>/<app_id>/metadata.json   json.dump style, written only if absent
 *   <root>/<project>/<parent>/children.jsonl  one line per fork or spawn, under an exclusive
 *                                             flock, in the parent's folder
 *
 * As Burr does, when graph.json already exists the application was announced before and
 * neither metadata nor children are written again.
 */
#include "tracker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int app_dir(const struct spoor_tracker *t, const char *app_id, char *out, size_t size,
                   struct spoor_error *err)
{
    snprintf(out, size, "%s/%s/%s", t->local_root, t->project, app_id);
    return spool_mkdirs(out, err);
}

static int write_new_file(const char *path, const char *data, size_t len, struct spoor_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST
                   ? 0
                   : spoor_error_set(err, -errno, "cannot write %s: %s", path, strerror(errno));
    ssize_t w = write(fd, data, len);
    int rc = w == (ssize_t)len ? 0 : -EIO;
    close(fd);
    return rc ? spoor_error_set(err, rc, "cannot write %s", path) : 0;
}

static int append_locked(const char *path, const char *data, size_t len, bool lock,
                         struct spoor_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return spoor_error_set(err, -errno, "cannot append to %s: %s", path, strerror(errno));
    if (lock)
        flock(fd, LOCK_EX);
    int rc = write_all(fd, data, len);
    if (lock)
        flock(fd, LOCK_UN);
    close(fd);
    return rc ? spoor_error_set(err, rc, "cannot append to %s: %s", path, strerror(-rc)) : 0;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int child_line(const struct spoor_tracker *t, const struct spoor_app *a,
                      const struct ev_pointer *p, const char *event, struct spoor_error *err)
{
    char dir[4096], path[4200];
    int rc = app_dir(t, p->app_id, dir, sizeof dir, err);
    if (rc)
        return rc;
    struct buf b;
    buf_init(&b, 1 << 20);
    ev_child_line(&b, a->app_id, real_ns(), event, p);
    buf_append_byte(&b, '\n');
    snprintf(path, sizeof path, "%s/children.jsonl", dir);
    rc = append_locked(path, b.data, b.len, true, err);
    buf_cleanup(&b);
    return rc;
}

int local_app_created(const struct spoor_tracker *t, const struct spoor_app *a,
                      struct spoor_error *err)
{
    char dir[4096], path[4200];
    int rc = app_dir(t, a->app_id, dir, sizeof dir, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/graph.json", dir);
    if (access(path, F_OK) == 0)
        return 0;
    struct buf b;
    buf_init(&b, 64u << 20);
    rc = json_reemit(a->graph, strlen(a->graph), JSON_STYLE_PYTHON, &b);
    if (!rc)
        rc = write_new_file(path, b.data, b.len, err);
    buf_reset(&b);
    if (!rc) {
        ev_metadata_json(&b, a->partition_key, a->has_parent ? &a->parent : NULL,
                         a->has_spawning ? &a->spawning : NULL, JSON_STYLE_PYTHON);
        snprintf(path, sizeof path, "%s/metadata.json", dir);
        rc = write_new_file(path, b.data, b.len, err);
    }
    buf_cleanup(&b);
    if (!rc && a->has_parent)
        rc = child_line(t, a, &a->parent, "fork", err);
    if (!rc && a->has_spawning)
        rc = child_line(t, a, &a->spawning, "spawn_start", err);
    return rc;
}

int local_append(const struct spoor_tracker *t, const struct spoor_app *a, const char *body,
                 size_t len, struct spoor_error *err)
{
    char dir[4096], path[4200];
    int rc = app_dir(t, a->app_id, dir, sizeof dir, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    /* Every line ends with a newline in the local layout. */
    char *data = xmalloc(len + 1);
    memcpy(data, body, len);
    data[len] = '\n';
    rc = append_locked(path, data, len + 1, false, err);
    free(data);
    return rc;
}
