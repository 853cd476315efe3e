/*
 * filestore_path.c: the file store's map from keys to names, and the small file system
 * helpers the other filestore files share (directories made and pruned, atomic small files,
 * copies, random names, dates).
 *
 * Escaping is per '/'-separated segment and reversible: '%', '#', bytes below 0x20 and 0x7f
 * become %XX (upper-case hex); the segments "." and ".." are written %2E and %2E%2E; the empty
 * segment (from "a//b", "a/" or "/x") is "%". Every other byte, UTF-8 included, is kept, so
 * names stay readable. An escaped name never contains '#' or '/', and is never "", "." or "..":
 * nothing a key becomes can leave its bucket directory or collide with the store's own names,
 * which all contain '#'. Decoding accepts only canonical escapes, so a file someone else put in
 * the tree is never mistaken for an object.
 *
 * Paths are relative to the bucket directory's descriptor (openat and friends), so a deep key
 * never runs into PATH_MAX with the root's own length added.
 */
#include "filestore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include "util.h"

static bool must_escape(unsigned char b)
{
    return b == '%' || b == '#' || b < 0x20 || b == 0x7f;
}

void fs_seg_escape(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n == 0) {
        buf_append_byte(out, '%');
        return;
    }
    bool dots = (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        if (dots || must_escape(b)) {
            char e[3] = {'%', hex[b >> 4], hex[b & 15]};
            buf_append(out, e, 3);
        } else {
            buf_append_byte(out, (char)b);
        }
    }
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void buf_truncate(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

bool fs_seg_decode(struct buf *out, const char *name, size_t n)
{
    size_t start = out->len;
    if (n == 1 && name[0] == '%')
        return true;
    bool ok = n > 0;
    for (size_t i = 0; ok && i < n; i++) {
        if (name[i] == '%') {
            int hi = i + 2 < n ? hexval(name[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(name[i + 2]) : -1;
            ok = hi >= 0 && lo >= 0 && (hi || lo) && !(hi == 2 && lo == 15); /* no NUL, '/' */
            if (ok)
                buf_append_byte(out, (char)(hi * 16 + lo));
            i += 2;
        } else {
            ok = name[i] != '#' && name[i] != '/';
            buf_append_byte(out, name[i]);
        }
    }
    if (ok) { /* canonical: escaping the segment again gives the same name */
        struct buf again;
        buf_init(&again, FS_PATH_MAX);
        fs_seg_escape(&again, out->data + start, out->len - start);
        ok = again.len == n && memcmp(again.data, name, n) == 0;
        buf_cleanup(&again);
    }
    if (!ok)
        buf_truncate(out, start);
    return ok;
}

int fs_keypath_init(struct fs_keypath *kp, const char *key)
{
    buf_init(&kp->dir, FS_PATH_MAX);
    buf_init(&kp->base, FS_PATH_MAX);
    buf_append_str(&kp->dir, "");
    buf_append_str(&kp->base, "");
    for (const char *seg = key;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        struct buf *out = slash ? &kp->dir : &kp->base;
        if (slash && kp->dir.len)
            buf_append_byte(&kp->dir, '/');
        size_t before = out->len;
        fs_seg_escape(out, seg, n);
        if (out->len - before > FS_SEG_MAX)
            return -ENAMETOOLONG;
        if (!slash)
            return 0;
        seg = slash + 1;
    }
}

void fs_keypath_cleanup(struct fs_keypath *kp)
{
    buf_cleanup(&kp->dir);
    buf_cleanup(&kp->base);
}

void fs_join(struct buf *out, const char *dir, const char *name)
{
    buf_reset(out);
    if (dir[0])
        buf_printf(out, "%s/%s", dir, name);
    else
        buf_append_str(out, name);
}

void fs_keypath_name(const struct fs_keypath *kp, const char *suffix, struct buf *out)
{
    fs_join(out, kp->dir.data, kp->base.data);
    buf_append_str(out, suffix);
}

int fs_mkdirs(int bfd, const char *dir)
{
    if (!dir[0] || mkdirat(bfd, dir, 0777) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return -errno;
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p;;) {
        char *slash = strchr(s, '/');
        if (slash)
            *slash = '\0';
        if (mkdirat(bfd, p, 0777) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        if (!slash)
            break;
        *slash = '/';
        s = slash + 1;
    }
    free(p);
    return rc;
}

void fs_prune(int bfd, const char *dir)
{
    char *p = xstrdup(dir);
    while (p[0] && unlinkat(bfd, p, AT_REMOVEDIR) == 0) {
        char *slash = strrchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
    }
    free(p);
}

int fs_rmdir_flat(int dfd, const char *rel)
{
    int fd = openat(dfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            unlinkat(dirfd(d), de->d_name, 0);
    closedir(d);
    return unlinkat(dfd, rel, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int fs_sync_dir(int dfd, const char *rel)
{
    int fd = openat(dfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

void fs_random_hex(char *out, size_t n)
{
    unsigned char raw[64];
    size_t m = (n + 1) / 2;
    for (size_t got = 0; got < m;) {
        ssize_t r = getrandom(raw + got, m - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            abort(); /* no randomness means no safe temporary names */
        got += (size_t)r;
    }
    char hex[129];
    hex_encode(raw, m, hex);
    memcpy(out, hex, n);
    out[n] = '\0';
}

int fs_pread_all(int fd, void *data, size_t n, int64_t offset)
{
    char *p = data;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, offset);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -EIO;
        p += r;
        n -= (size_t)r;
        offset += r;
    }
    return 0;
}

static int copy_buffered(int in, int64_t offset, int64_t len, int out)
{
    char *chunk = xmalloc(FS_CHUNK);
    int rc = 0;
    while (rc == 0 && len > 0) {
        size_t n = len < FS_CHUNK ? (size_t)len : FS_CHUNK;
        rc = fs_pread_all(in, chunk, n, offset);
        if (rc == 0)
            rc = write_all(out, chunk, n);
        offset += (int64_t)n;
        len -= (int64_t)n;
    }
    free(chunk);
    return rc;
}

int fs_copy_fd(int in, int64_t offset, int64_t len, int out)
{
    while (len > 0) {
        loff_t off = offset;
        size_t want = len > (1 << 30) ? (size_t)1 << 30 : (size_t)len;
        ssize_t n = copy_file_range(in, &off, out, NULL, want, 0);
        if (n > 0) {
            offset += n;
            len -= n;
        } else if (n == 0) {
            return -EIO;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
                   errno == EBADF) {
            return copy_buffered(in, offset, len, out);
        } else {
            return -errno;
        }
    }
    return 0;
}

int fs_write_atomic(int bfd, const char *dir, const char *rel, const char *text, struct buf *tmp)
{
    char id[FS_ID_HEX + 1], name[FS_ID_HEX + 3];
    fs_random_hex(id, FS_ID_HEX);
    snprintf(name, sizeof name, "#t%s", id);
    fs_join(tmp, dir, name);
    int fd = openat(bfd, tmp->data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, text, strlen(text));
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(bfd, tmp->data, bfd, rel) != 0)
        rc = -errno;
    if (rc)
        unlinkat(bfd, tmp->data, 0);
    return rc;
}

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Day and month names are spelled here, not by strftime, which follows the locale. */
void fs_http_date(int64_t ms, char out[FS_DATE_MAX])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, FS_DATE_MAX, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday], tm.tm_mday,
             month[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void fs_iso_date(int64_t ms, char out[FS_DATE_MAX])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, FS_DATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int64_t fs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fs_etag(const unsigned char md5[16], char out[40])
{
    char hex[33];
    hex_encode(md5, 16, hex);
    snprintf(out, 40, "\"%s\"", hex);
}
