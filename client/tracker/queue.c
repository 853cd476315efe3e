/*
 * queue.c: the tracker's bounded queue, a byte ring that many application threads write and
 * one flusher reads.
 *
 * A writer takes the lock, finds room for its record (wrapping with a REC_SKIP filler when the
 * end of the buffer is too close), copies the record in and leaves: no allocation, no
 * formatting, work proportional to the record's size. The flusher takes the lock only to read
 * head and later to move tail; between the two, [tail, head) is its own and it reads the
 * records in place. used counts the bytes between tail and head, fillers included, so
 * head == tail is unambiguous.
 *
 *        tail                       head
 *   [....|rec|rec|rec|rec|..........|.........]   used = head - tail (or wrapped)
 *             flusher reads            writers append
 */
#include "tracker_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

int ring_init(struct ring *q, size_t cap, uint64_t wake_at)
{
    memset(q, 0, sizeof *q);
    q->cap = ALIGN8(cap);
    q->mem = malloc(q->cap);
    if (!q->mem)
        return -ENOMEM;
    q->wake_at = wake_at;
    /* Adaptive: a writer spins briefly before sleeping, as records are copied in nanoseconds. */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&q->mu, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->room, &ca);
    pthread_cond_init(&q->work, &ca);
    pthread_condattr_destroy(&ca);
    return 0;
}

void ring_cleanup(struct ring *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->work);
    free(q->mem);
    q->mem = NULL;
}

static size_t rec_size(size_t nstr, const struct rec_str *strs)
{
    size_t n = sizeof(struct rec);
    for (size_t i = 0; i < nstr; i++)
        n += sizeof(uint32_t) + (strs[i].s ? strs[i].len + 1 : 0);
    return ALIGN8(n);
}

/* Where a record of n bytes goes, or SIZE_MAX when there is no room now. Accounts for the
 * filler needed to wrap. */
static size_t place(const struct ring *q, size_t n, size_t *filler)
{
    *filler = 0;
    if (q->used + n > q->cap)
        return SIZE_MAX;
    if (q->head >= q->tail || q->used == 0) {
        size_t h = q->used == 0 ? 0 : q->head;
        if (q->cap - h >= n)
            return h;
        /* wrap: the filler covers the end, the record starts at 0 and must fit before tail */
        size_t t = q->used == 0 ? q->cap : q->tail;
        if (n <= t && q->used + (q->cap - h) + n <= q->cap) {
            *filler = q->cap - h;
            return 0;
        }
        return SIZE_MAX;
    }
    return q->tail - q->head >= n ? q->head : SIZE_MAX;
}

static void write_rec(struct ring *q, size_t at, const struct rec *h, const struct rec_str *strs,
                      size_t nstr, size_t n)
{
    char *p = q->mem + at;
    struct rec *r = (struct rec *)p;
    *r = *h;
    r->len = (uint32_t)n;
    r->nstr = (uint16_t)nstr;
    p += sizeof *r;
    for (size_t i = 0; i < nstr; i++) {
        uint32_t len = strs[i].s ? (uint32_t)strs[i].len : UINT32_MAX;
        memcpy(p, &len, sizeof len);
        p += sizeof len;
        if (strs[i].s) {
            memcpy(p, strs[i].s, strs[i].len);
            p[strs[i].len] = '\0';
            p += strs[i].len + 1;
        }
    }
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int ring_put(struct ring *q, const struct rec *h, const struct rec_str *strs, size_t nstr,
             int block_ms, uint64_t *ticket)
{
    size_t n = rec_size(nstr, strs), filler, at;
    if (n > q->cap / 2 || n > UINT32_MAX)
        return SPOOR_E_QUEUE_FULL; /* a record that could never fit */
    pthread_mutex_lock(&q->mu);
    struct timespec until;
    bool timed = false;
    while (!q->closing && (at = place(q, n, &filler)) == SIZE_MAX) {
        if (block_ms <= 0)
            break;
        if (!timed) {
            deadline_after(&until, block_ms);
            timed = true;
        }
        pthread_cond_signal(&q->work); /* the flusher should make room */
        if (pthread_cond_timedwait(&q->room, &q->mu, &until) == ETIMEDOUT)
            break;
    }
    int rc = 0;
    if (q->closing) {
        rc = SPOOR_E_CANCELED;
    } else if ((at = place(q, n, &filler)) == SIZE_MAX) {
        q->dropped++;
        rc = SPOOR_E_QUEUE_FULL;
    } else {
        if (filler) { /* only len and kind: the filler may be as short as 8 bytes */
            uint32_t len = (uint32_t)filler;
            uint16_t kind = REC_SKIP;
            memcpy(q->mem + q->head, &len, sizeof len);
            memcpy(q->mem + q->head + offsetof(struct rec, kind), &kind, sizeof kind);
            q->used += filler;
        }
        write_rec(q, at, h, strs, nstr, n);
        q->head = at + n == q->cap ? 0 : at + n;
        q->used += n;
        q->tickets++;
        if (ticket)
            *ticket = q->tickets;
        if (h->kind == REC_EVENT) {
            q->events++;
            if (++q->pending == q->wake_at)
                pthread_cond_signal(&q->work);
        }
        if (h->kind == REC_APP)
            pthread_cond_signal(&q->work);
    }
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void ring_take(struct ring *q, int64_t deadline_ns, size_t *from, size_t *to, uint64_t *ntickets,
               bool *asked, bool *closing, uint64_t *flush_gen)
{
    pthread_mutex_lock(&q->mu);
    struct timespec until = {deadline_ns / 1000000000, deadline_ns % 1000000000};
    while (!q->closing && !q->flush_asked && q->pending < q->wake_at) {
        if (pthread_cond_timedwait(&q->work, &q->mu, &until) == ETIMEDOUT)
            break;
    }
    /* Unwrapped offsets: records are read at pos % cap. */
    *from = q->tail;
    *to = q->tail + q->used;
    *ntickets = q->tickets;
    q->pending = 0;
    /* Taken with the snapshot, so a request made after it is seen by the next round. */
    *asked = q->flush_asked;
    *closing = q->closing;
    *flush_gen = q->flush_gen;
    q->flush_asked = false;
    pthread_mutex_unlock(&q->mu);
}

void ring_release(struct ring *q, size_t nbytes)
{
    pthread_mutex_lock(&q->mu);
    q->used -= nbytes;
    q->tail = (q->tail + nbytes) % q->cap;
    if (q->used == 0)
        q->head = q->tail = 0;
    pthread_cond_broadcast(&q->room);
    pthread_mutex_unlock(&q->mu);
}

const struct rec *ring_next(const struct ring *q, size_t *pos, size_t to)
{
    while (*pos < to) {
        const char *p = q->mem + (*pos % q->cap);
        uint32_t len;
        uint16_t kind;
        memcpy(&len, p, sizeof len); /* a filler may be shorter than a whole header */
        memcpy(&kind, p + offsetof(struct rec, kind), sizeof kind);
        *pos += len;
        if (kind != REC_SKIP)
            return (const struct rec *)p;
    }
    return NULL;
}

struct rec_str rec_string(const struct rec *r, size_t i)
{
    const char *p = (const char *)(r + 1);
    for (size_t k = 0;; k++) {
        uint32_t len;
        memcpy(&len, p, sizeof len);
        p += sizeof len;
        if (k == i)
            return len == UINT32_MAX ? (struct rec_str){NULL, 0} : (struct rec_str){p, len};
        if (len != UINT32_MAX)
            p += len + 1;
    }
}
