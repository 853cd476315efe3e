/*
 * static.c: the web UI's files (see static.h).
 *
 * A request path becomes root + path and is answered only if all of these hold, in order:
 *  1. the path is plain: it starts with '/', has no backslash and no segment starting with '.'
 *     (that one rule refuses "..", "." and dotfiles alike);
 *  2. its realpath is root itself or starts with root + "/" (so no symlink leads out);
 *  3. it is a regular file (opened) or a directory (answered with root/index.html).
 * A path that does not exist falls back to root/index.html unless its last segment has an
 * extension. root/index.html goes through the same checks.
 *
 * Deliberately not here: Range requests, If-None-Match (the HTTP layer compares the ETag),
 * directory listings, compression. Nothing is read into memory: the HTTP layer sends the
 * file from its descriptor. Every reply leaves no descriptor open except the one it hands over.
 */
#include "static.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SPOOR_SOURCE_UI_DIR
#define SPOOR_SOURCE_UI_DIR "ui"
#endif

/* ---- finding the folder ----------------------------------------------------------------- */

/* NULL when dir is a directory holding index.html, else what is wrong with it. */
static const char *check_dir(const char *dir)
{
    char index[PATH_MAX];
    struct stat st;
    if (stat(dir, &st) != 0)
        return strerror(errno);
    if (!S_ISDIR(st.st_mode))
        return "not a directory";
    if (snprintf(index, sizeof index, "%s/index.html", dir) >= (int)sizeof index)
        return "path too long";
    if (stat(index, &st) != 0 || !S_ISREG(st.st_mode))
        return "no index.html in it";
    return NULL;
}

static int resolve(const char *dir, char *out, size_t size, struct spoor_error *err)
{
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return spoor_error_set(err, -errno, "UI folder %s: %s", dir, strerror(errno));
    if (!str_copy(out, size, real))
        return spoor_error_set(err, -ENAMETOOLONG, "UI folder %s: path too long", real);
    return 0;
}

int static_ui_dir(const char *configured, char *out, size_t size, struct spoor_error *err)
{
    if (configured && *configured) {
        const char *why = check_dir(configured);
        if (why)
            return spoor_error_set(err, SPOOR_E_CONFIG,
                                   "UI folder %s: %s; fix SPOOR_UI_DIR or --ui-dir to name a "
                                   "folder holding index.html",
                                   configured, why);
        return resolve(configured, out, size, err);
    }

    char exe[PATH_MAX], installed[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
    if (slash) {
        *slash = '\0';
        if (snprintf(installed, sizeof installed, "%s/../share/spoor/ui", exe) >=
            (int)sizeof installed)
            installed[0] = '\0';
    }
    if (installed[0] && !check_dir(installed))
        return resolve(installed, out, size, err);
    if (!check_dir(SPOOR_SOURCE_UI_DIR))
        return resolve(SPOOR_SOURCE_UI_DIR, out, size, err);
    return spoor_error_set(err, -ENOENT,
                           "no UI folder: neither %s nor %s holds index.html; set SPOOR_UI_DIR "
                           "or --ui-dir to serve the UI",
                           installed[0] ? installed : "<prefix>/share/spoor/ui",
                           SPOOR_SOURCE_UI_DIR);
}

/* ---- serving a file ----------------------------------------------------------------------- */

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"}, /* always UTF-8 (RFC 8259): no charset parameter */
    {"map", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"wasm", "application/wasm"},
};

static const char *content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* Rule 1 of the file comment. */
static bool plain_path(const char *path)
{
    if (path[0] != '/' || strchr(path, '\\'))
        return false;
    for (const char *s = path; (s = strchr(s, '/')); s++)
        if (s[1] == '.')
            return false;
    return true;
}

static bool has_extension(const char *path)
{
    return strchr(strrchr(path, '/'), '.') != NULL;
}

static bool under(const char *root, const char *real)
{
    size_t n = strlen(root);
    return strncmp(real, root, n) == 0 &&
           (real[n] == '\0' || real[n] == '/' || (n > 0 && root[n - 1] == '/'));
}

enum found { FOUND_FILE, FOUND_DIR, FOUND_NONE, FOUND_REFUSED };

/* Rules 2 and 3 for root + path; FOUND_FILE leaves the open file in *fd and its status in *st. */
static enum found lookup(const char *root, const char *path, int *fd, struct stat *st)
{
    char want[PATH_MAX], real[PATH_MAX];
    *fd = -1;
    if (snprintf(want, sizeof want, "%s%s", root, path) >= (int)sizeof want)
        return FOUND_REFUSED;
    if (!realpath(want, real))
        return errno == ENOENT || errno == ENOTDIR ? FOUND_NONE : FOUND_REFUSED;
    /* stat before open: opening a device or FIFO can block or have side effects. */
    if (!under(root, real) || stat(real, st) != 0)
        return FOUND_REFUSED;
    if (S_ISDIR(st->st_mode))
        return FOUND_DIR;
    if (!S_ISREG(st->st_mode))
        return FOUND_REFUSED;
    /* O_NONBLOCK in case it was swapped for a FIFO since the stat; fstat settles it. */
    *fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (*fd < 0)
        return FOUND_REFUSED;
    if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(*fd);
        *fd = -1;
        return FOUND_REFUSED;
    }
    return FOUND_FILE;
}

static void not_found(struct http_reply *r, const char *path)
{
    json_t *j = json_pack("{s:s++}", "detail", "no file ", path, " in the UI folder");
    if (!j) /* path is not UTF-8 */
        j = json_pack("{s:s}", "detail", "no such file in the UI folder");
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!body)
        abort(); /* out of memory (STYLE.md) */
    r->status = 404;
    r->content_type = "application/json";
    r->body = body;
    r->body_len = strlen(body);
}

void static_serve(const char *root, const char *path, bool head, struct http_reply *r)
{
    r->body = NULL;
    r->body_len = 0;
    r->fd = -1;
    r->fd_size = 0;
    r->etag[0] = '\0';
    r->cache_control = NULL;

    int fd = -1;
    struct stat st;
    enum found f = plain_path(path) ? lookup(root, path, &fd, &st) : FOUND_REFUSED;
    if (f == FOUND_DIR || (f == FOUND_NONE && !has_extension(path))) {
        path = "/index.html";
        f = lookup(root, path, &fd, &st);
    }
    if (f != FOUND_FILE) {
        not_found(r, path);
        return;
    }

    const char *name = strrchr(path, '/') + 1;
    r->status = 200;
    r->content_type = content_type(name);
    r->fd = fd;
    r->fd_size = (size_t)st.st_size;
    unsigned long long mtime_ns = (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                                  (unsigned long long)st.st_mtim.tv_nsec;
    snprintf(r->etag, sizeof r->etag, "\"%llx-%llx\"", (unsigned long long)st.st_size, mtime_ns);
    /* revalidated every time (a 304 when unchanged): after an upgrade a browser never mixes
     * cached old modules with new ones */
    r->cache_control = "no-cache";
}
