/*
 * arena.h: a bump allocator for one unit of work (an S3 request, an HTTP request). Everything
 * allocated from it is freed at once by arena_cleanup; nothing is freed one by one.
 */
#ifndef SPOOR_ARENA_H
#define SPOOR_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
};

void arena_init(struct arena *a);
void arena_cleanup(struct arena *a);
/* n bytes aligned for any type; aborts on allocation failure. */
void *arena_alloc(struct arena *a, size_t n);
/* Copies of strings; NULL stays NULL. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void *arena_memdup(struct arena *a, const void *p, size_t n);

#endif
