/*
 * filestore_list.c: ListObjectsV2 over the file store's directory tree, with S3's semantics:
 * keys in byte order, prefix, any delimiter, start-after, continuation tokens, max-keys
 * (0 means 1000, at most 1000), common prefixes counted once, IsTruncated exact.
 *
 * Byte order across the tree: in a directory whose keys start with q, an object file for
 * segment s holds key q+s and a subdirectory for segment s holds every key starting with
 * q+s+"/", a contiguous range of byte order that no sibling's key falls into (segments hold
 * no '/'). Sorting a directory's entries by those strings (q+s, q+s+"/") and walking depth
 * first yields keys in byte order: key "a-c" comes before the directory "a" ("a/..."),
 * "a0" after it.
 *
 * A page never reads the bucket whole: the walk starts in the deepest directory the prefix
 * names, skips (without reading) every subtree wholly at or before the resume point or
 * outside the prefix, and stops after max-keys entries and one more (to know the page is
 * truncated). A subtree that rolls up into one common prefix (its path already holds the
 * delimiter, always the case for "/") is not walked: one object found in it is enough.
 * Each directory on the way is read and sorted whole; that is the cost of a flat directory.
 *
 * The continuation token is base64url of 'k' + the last key returned, or 'p' + the last
 * common prefix: resuming after a prefix skips every key under it. It wins over start-after.
 */
#include "filestore_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define LIST_MAX_KEYS 1000

struct lister {
    struct fs_ctx *c;
    const char *prefix;
    size_t plen;
    const char *delim; /* NULL: no delimiter */
    size_t dlen;
    char *after; /* keys <= after are not listed (NULL: none) */
    char *skip;  /* keys starting with skip are not listed (NULL: none) */
    int max;
    int count;
    bool stop;
    struct buf last; /* kind byte + the last entry returned, for the token */
    struct spoor_s3_list *out;
};

/* One directory entry: an object (key = its key) or a subdirectory (key = the prefix all its
 * keys share, ending in '/'). */
struct entry {
    char *key;
    char *name;
    bool dir;
};

struct entries {
    struct entry *v;
    size_t n, cap;
};

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool key_wanted(const struct lister *l, const char *k)
{
    return strncmp(k, l->prefix, l->plen) == 0 && (!l->after || strcmp(k, l->after) > 0) &&
           (!l->skip || !starts(k, l->skip));
}

/* Whether a subtree of keys all starting with r can hold a key to list. */
static bool range_wanted(const struct lister *l, const char *r)
{
    if (!starts(r, l->prefix) && !starts(l->prefix, r))
        return false;
    if (l->skip && starts(r, l->skip))
        return false;
    return !(l->after && strcmp(l->after, r) > 0 && !starts(l->after, r));
}

/* ---- reading a directory ------------------------------------------------------------------- */

static DIR *open_dir(struct fs_ctx *c, const char *rel)
{
    int fd = openat(c->bfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (fd >= 0 && !d)
        close(fd);
    return d;
}

/* Decodes a name the store made: *dir tells a subdirectory from an object; the decoded
 * segment is appended to key. False for anything else (temporary, data and foreign files). */
static bool classify(DIR *d, const struct dirent *de, struct buf *key, bool *dir)
{
    const char *name = de->d_name;
    const char *hash = strchr(name, '#');
    if (hash) {
        *dir = false;
        return strcmp(hash, "#m") == 0 && fs_seg_decode(key, name, (size_t)(hash - name));
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    struct stat st;
    *dir = de->d_type == DT_DIR ||
           (de->d_type == DT_UNKNOWN && fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode));
    return *dir && fs_seg_decode(key, name, strlen(name));
}

static void entries_add(struct entries *es, const char *key, const char *name, bool dir)
{
    if (es->n == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 32;
        es->v = xrealloc(es->v, es->cap * sizeof *es->v);
    }
    es->v[es->n++] = (struct entry){xstrdup(key), xstrdup(name), dir};
}

static void entries_free(struct entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        free(es->v[i].key);
        free(es->v[i].name);
    }
    free(es->v);
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* The entries of directory rel (keys starting with q) that can hold something to list, in
 * byte order of their keys. A directory that vanished (pruned meanwhile) is empty. */
static void read_dir(struct lister *l, const char *rel, const char *q, struct entries *es)
{
    memset(es, 0, sizeof *es);
    DIR *d = open_dir(l->c, rel);
    if (!d)
        return;
    struct buf key;
    buf_init(&key, FS_PATH_MAX);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        bool dir;
        buf_reset(&key);
        buf_append_str(&key, q);
        if (!classify(d, de, &key, &dir))
            continue;
        if (dir)
            buf_append_byte(&key, '/');
        if (dir ? range_wanted(l, key.data) : key_wanted(l, key.data))
            entries_add(es, key.data, de->d_name, dir);
    }
    closedir(d);
    buf_cleanup(&key);
    if (es->n > 1)
        qsort(es->v, es->n, sizeof *es->v, entry_cmp);
}

/* Whether the subtree rel holds at least one object (order does not matter here). */
static bool has_object(struct lister *l, const char *rel)
{
    DIR *d = open_dir(l->c, rel);
    if (!d)
        return false;
    struct buf key, child;
    buf_init(&key, FS_PATH_MAX);
    buf_init(&child, FS_PATH_MAX);
    struct entries subdirs = {0};
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        bool dir;
        buf_reset(&key);
        if (classify(d, de, &key, &dir) && !(found = !dir))
            entries_add(&subdirs, "", de->d_name, true);
    }
    closedir(d);
    for (size_t i = 0; !found && i < subdirs.n; i++) {
        fs_join(&child, rel, subdirs.v[i].name);
        found = has_object(l, child.data);
    }
    entries_free(&subdirs);
    buf_cleanup(&key);
    buf_cleanup(&child);
    return found;
}

/* ---- emitting entries ---------------------------------------------------------------------- */

/* False (and the walk stops, the page truncated) when the page is already full. */
static bool room(struct lister *l)
{
    if (l->count < l->max)
        return true;
    l->out->is_truncated = true;
    l->stop = true;
    return false;
}

static void set_last(struct lister *l, char kind, const char *s)
{
    buf_reset(&l->last);
    buf_append_byte(&l->last, kind);
    buf_append_str(&l->last, s);
}

static void emit_prefix(struct lister *l, const char *cp, size_t n)
{
    if (!room(l))
        return;
    struct spoor_s3_list *o = l->out;
    o->common_prefixes = xrealloc(o->common_prefixes, (o->nprefixes + 1) * sizeof(char *));
    o->common_prefixes[o->nprefixes++] = xstrndup(cp, n);
    free(l->skip);
    l->skip = xstrndup(cp, n);
    set_last(l, 'p', l->skip);
    l->count++;
}

static int emit_object(struct lister *l, const char *key, const char *rel)
{
    if (!room(l))
        return 0;
    struct fs_meta m;
    int rc = fs_meta_load(l->c->bfd, rel, &m);
    if (rc == -ENOENT) /* deleted since the directory was read */
        return 0;
    if (rc == SPOOR_E_PARSE)
        return fs_fail(l->c, rc, "corrupt metadata file %s/%s/%s", l->c->fs->root, l->c->op->bucket,
                       rel);
    if (rc)
        return fs_fail_errno(l->c, rc, "cannot read", rel);
    struct spoor_s3_list *o = l->out;
    o->objects = xrealloc(o->objects, (o->nobjects + 1) * sizeof *o->objects);
    struct spoor_s3_object *obj = &o->objects[o->nobjects++];
    char date[FS_DATE_MAX];
    fs_iso_date(m.mtime_ms, date);
    *obj = (struct spoor_s3_object){xstrdup(key), xstrdup(m.etag), xstrdup(date),
                                    xstrdup("STANDARD"), m.size};
    fs_meta_cleanup(&m);
    set_last(l, 'k', key);
    l->count++;
    return 0;
}

/* The common prefix key (or a subtree's range) rolls up into: its length, or 0 for none. */
static size_t rollup(const struct lister *l, const char *key)
{
    if (!l->delim)
        return 0;
    const char *rest = key + l->plen;
    const char *hit = memmem(rest, strlen(rest), l->delim, l->dlen);
    return hit ? (size_t)(hit - key) + l->dlen : 0;
}

/* ---- the walk ------------------------------------------------------------------------------ */

static int walk(struct lister *l, const char *rel, const char *q);

static int visit(struct lister *l, const char *rel, const struct entry *e)
{
    struct buf child;
    buf_init(&child, FS_PATH_MAX);
    fs_join(&child, rel, e->name);
    int rc = 0;
    size_t cp = starts(e->key, l->prefix) ? rollup(l, e->key) : 0;
    if (!e->dir && key_wanted(l, e->key)) {
        if (cp)
            emit_prefix(l, e->key, cp);
        else
            rc = emit_object(l, e->key, child.data);
    } else if (e->dir && range_wanted(l, e->key)) {
        /* A subtree wholly inside one common prefix (and wholly after the resume point) is
         * that prefix if it holds any object; otherwise walk it in order. */
        if (cp && !(l->after && starts(l->after, e->key))) {
            if (has_object(l, child.data))
                emit_prefix(l, e->key, cp);
        } else {
            rc = walk(l, child.data, e->key);
        }
    }
    buf_cleanup(&child);
    return rc;
}

static int walk(struct lister *l, const char *rel, const char *q)
{
    struct entries es;
    read_dir(l, rel, q, &es);
    int rc = 0;
    for (size_t i = 0; rc == 0 && !l->stop && i < es.n; i++)
        rc = visit(l, rel, &es.v[i]);
    entries_free(&es);
    return rc;
}

/* ---- continuation tokens ------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *token_encode(const struct buf *last)
{
    struct buf out;
    buf_init(&out, 4 * FS_PATH_MAX);
    const unsigned char *s = (const unsigned char *)last->data;
    for (size_t i = 0; i < last->len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < last->len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < last->len)
            v |= s[i + 2];
        size_t chars = last->len - i >= 3 ? 4 : last->len - i + 1;
        for (size_t k = 0; k < chars; k++)
            buf_append_byte(&out, b64[(v >> (18 - 6 * k)) & 63]);
    }
    return buf_take(&out, NULL);
}

/* Decodes a token into out: false when it is not one this store made. */
static bool token_decode(const char *t, struct buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    for (; *t; t++) {
        const char *p = strchr(b64, *t);
        if (!p)
            return false;
        acc = (acc << 6) | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_append_byte(out, (char)((acc >> bits) & 0xff));
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 && out->len >= 1 && (out->data[0] == 'k' || out->data[0] == 'p') &&
           memchr(out->data, '\0', out->len) == NULL;
}

/* ---- ListObjectsV2 ------------------------------------------------------------------------- */

/* Where the walk resumes: the token's entry (a prefix: and all under it), else start-after. */
static int resume_point(struct lister *l)
{
    const struct spoor_s3_op *op = l->c->op;
    if (!op->continuation_token || !op->continuation_token[0]) {
        l->after = op->start_after && op->start_after[0] ? xstrdup(op->start_after) : NULL;
        return 0;
    }
    struct buf raw;
    buf_init(&raw, 4 * FS_PATH_MAX);
    int rc = 0;
    if (!token_decode(op->continuation_token, &raw)) {
        rc = fs_fail_s3(l->c, 400, "InvalidArgument",
                        "The continuation token provided is incorrect");
    } else {
        l->after = xstrdup(raw.data + 1);
        if (raw.data[0] == 'p')
            l->skip = xstrdup(raw.data + 1);
    }
    buf_cleanup(&raw);
    return rc;
}

/* The directory holding every key that starts with the prefix (its whole segments) and the
 * key prefix of that directory. False when no such directory can exist. */
static bool start_dir(const char *prefix, struct buf *rel, struct buf *q)
{
    const char *end = strrchr(prefix, '/');
    buf_append_str(rel, "");
    buf_append_str(q, "");
    if (!end)
        return true;
    buf_append(q, prefix, (size_t)(end - prefix) + 1);
    for (const char *seg = prefix; seg <= end;) {
        const char *slash = strchr(seg, '/');
        if (rel->len)
            buf_append_byte(rel, '/');
        size_t before = rel->len;
        fs_seg_escape(rel, seg, (size_t)(slash - seg));
        if (rel->len - before > FS_SEG_MAX)
            return false;
        seg = slash + 1;
    }
    return true;
}

static void list_echo(struct lister *l)
{
    const struct spoor_s3_op *op = l->c->op;
    struct spoor_s3_list *o = l->out;
    o->name = xstrdup(op->bucket);
    o->prefix = xstrdup_or_null(op->prefix);
    o->delimiter = xstrdup_or_null(op->delimiter);
    o->start_after = xstrdup_or_null(op->start_after);
    o->continuation_token = xstrdup_or_null(op->continuation_token);
    o->max_keys = l->max;
}

int fs_list(struct fs_ctx *c)
{
    const struct spoor_s3_op *op = c->op;
    struct lister l = {.c = c, .prefix = op->prefix ? op->prefix : "", .out = &c->res->list};
    l.plen = strlen(l.prefix);
    if (op->delimiter && op->delimiter[0]) {
        l.delim = op->delimiter;
        l.dlen = strlen(op->delimiter);
    }
    l.max = op->max_keys == 0 || op->max_keys > LIST_MAX_KEYS ? LIST_MAX_KEYS : op->max_keys;
    buf_init(&l.last, 2 * FS_PATH_MAX);
    struct buf rel, q;
    buf_init(&rel, FS_PATH_MAX);
    buf_init(&q, FS_PATH_MAX);
    int rc = resume_point(&l);
    if (rc == 0 && start_dir(l.prefix, &rel, &q))
        rc = walk(&l, rel.data, q.data);
    if (rc == 0) {
        list_echo(&l);
        l.out->key_count = l.count;
        if (l.out->is_truncated)
            l.out->next_continuation_token = token_encode(&l.last);
        c->res->http_status = 200;
    }
    free(l.after);
    free(l.skip);
    buf_cleanup(&l.last);
    buf_cleanup(&rel);
    buf_cleanup(&q);
    return rc;
}
