/*
 * util.h: allocation that aborts on failure, and small string helpers used across the core.
 * Allocation failure aborts because spoor is an application stack, not a library for unknown
 * hosts (STYLE.md); the tracker's enqueue path does not use these.
 */
#ifndef SPOOR_UTIL_H
#define SPOOR_UTIL_H

#include <stdbool.h>
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup that keeps NULL as NULL. */
char *xstrdup_or_null(const char *s);

/* Copies src into dst[size] and always NUL-terminates; returns false if src was cut. */
bool str_copy(char *dst, size_t size, const char *src);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* ASCII case-insensitive comparison of the first n bytes. */
bool str_ieq_n(const char *a, const char *b, size_t n);
/* Writes all n bytes to fd, retrying short writes and EINTR; 0 or -errno. */
int write_all(int fd, const void *data, size_t n);
/* Lower-case hex of n bytes into out[2n+1]. */
void hex_encode(const unsigned char *in, size_t n, char *out);

#endif
