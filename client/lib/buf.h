/*
 * buf.h: a growable byte buffer with a ceiling (in the manner of curl's dynbuf).
 *
 * The contents are always NUL-terminated (the NUL is not counted in len), so a buffer holding
 * text can be handed to functions that want a C string. Appending past max_bytes fails with
 * SPOOR_E_TOO_LARGE and leaves the buffer as it was: a hostile peer cannot grow it without limit.
 * Allocation failure aborts (see STYLE.md).
 */
#ifndef SPOOR_BUF_H
#define SPOOR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append */
    size_t len;
    size_t cap;
    size_t max_bytes; /* ceiling for len */
};

void buf_init(struct buf *b, size_t max_bytes);
void buf_cleanup(struct buf *b);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_byte(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands the contents to the caller (new; free()) and empties the buffer. Never NULL. */
char *buf_take(struct buf *b, size_t *len);

#endif
