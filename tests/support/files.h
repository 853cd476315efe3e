/*
 * files.h: local files for tests: a deterministic pseudo-random file of any size, a
 * byte-for-byte comparison of two files, reading a file whole, and removing a folder tree.
 * Header-only; include after <cmocka.h>.
 */
#ifndef SPOOR_TEST_FILES_H
#define SPOOR_TEST_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

static inline int rm_tree_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes path and everything below it (symbolic links themselves, not what they point to). */
static inline void rm_tree(const char *path)
{
    nftw(path, rm_tree_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* size bytes of xorshift32 output from seed: the same file for the same arguments. */
static inline void write_random_file(const char *path, size_t size, uint32_t seed)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t x = seed ? seed : 2463534242u;
    for (size_t i = 0; i < size; i += 4) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        fwrite(&x, 1, size - i < 4 ? size - i : 4, f);
    }
    fclose(f);
}

static inline bool files_equal(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    assert_non_null(fa);
    assert_non_null(fb);
    static char ba[65536], bb[65536];
    bool same = true;
    for (;;) {
        size_t na = fread(ba, 1, sizeof ba, fa), nb = fread(bb, 1, sizeof bb, fb);
        if (na != nb || memcmp(ba, bb, na) != 0) {
            same = false;
            break;
        }
        if (na == 0)
            break;
    }
    fclose(fa);
    fclose(fb);
    return same;
}

/* The whole of a file, NUL-terminated (new; free()), its length in *len (may be NULL);
 * NULL when it cannot be opened. */
static inline char *slurp_n(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *s = malloc(cap);
    assert_non_null(s);
    while ((got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            s = realloc(s, cap);
            assert_non_null(s);
        }
    }
    fclose(f);
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

static inline char *slurp(const char *path)
{
    return slurp_n(path, NULL);
}

#endif
