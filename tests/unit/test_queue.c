/*
 * test_queue.c: the tracker's ring (client/tracker/queue.c): records come out whole and in
 * order across wraps, a full ring drops (and counts) or blocks for room as asked, closing
 * refuses writers, and many writers with one reader lose nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracker_int.h"

static int64_t soon(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (int64_t)ms * 1000000;
}

static int put_text(struct ring *q, int64_t seq, const char *text, int block_ms)
{
    struct rec h = {.kind = REC_EVENT, .seq = seq};
    struct rec_str s[] = {{text, strlen(text)}, {NULL, 0}};
    return ring_put(q, &h, s, 2, block_ms, NULL);
}

/* Takes everything, checks each record's sequence and text, releases; returns the count. */
static int drain(struct ring *q, int64_t *next_seq, const char *prefix)
{
    size_t from, to;
    uint64_t tickets;
    bool asked, closing;
    uint64_t gen;
    ring_take(q, soon(0), &from, &to, &tickets, &asked, &closing, &gen);
    size_t pos = from;
    const struct rec *r;
    int n = 0;
    char want[64];
    while ((r = ring_next(q, &pos, to))) {
        assert_int_equal(r->seq, *next_seq);
        snprintf(want, sizeof want, "%s%lld", prefix, (long long)*next_seq);
        struct rec_str s0 = rec_string(r, 0), s1 = rec_string(r, 1);
        assert_int_equal(s0.len, strlen(want));
        assert_string_equal(s0.s, want);
        assert_null(s1.s); /* NULL strings stay NULL */
        (*next_seq)++;
        n++;
    }
    assert_int_equal(pos, to);
    ring_release(q, to - from);
    return n;
}

/* Small ring, many rounds: records straddle the end and wrap with fillers, and come back
 * intact and in order. */
static void test_wrap_keeps_records_whole(void **state)
{
    struct ring q;
    assert_int_equal(ring_init(&q, 1000, 1000), 0);
    int64_t written = 0, read_seq = 0;
    char text[64];
    for (int round = 0; round < 300; round++) {
        int k = 1 + round % 7;
        for (int i = 0; i < k; i++) {
            snprintf(text, sizeof text, "payload-%lld", (long long)written);
            if (put_text(&q, written, text, 0) != 0)
                break;
            written++;
        }
        drain(&q, &read_seq, "payload-");
    }
    assert_int_equal(read_seq, written);
    assert_true(written > 1000);
    assert_int_equal(q.used, 0);
    ring_cleanup(&q);
}

static void test_full_ring_drops_and_counts(void **state)
{
    struct ring q;
    assert_int_equal(ring_init(&q, 512, 1000), 0);
    int ok = 0, full = 0;
    char text[32];
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof text, "x-%d", i);
        int rc = put_text(&q, i, text, 0);
        if (rc == 0)
            ok++;
        else {
            assert_int_equal(rc, SPOOR_E_QUEUE_FULL);
            full++;
        }
    }
    assert_true(ok > 0 && full > 0);
    assert_int_equal(q.dropped, (uint64_t)full);
    int64_t seq = 0;
    assert_int_equal(drain(&q, &seq, "x-"), ok); /* the oldest are kept, the newest dropped */
    /* A record too large for the ring is refused, never blocks. */
    char big[400];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(put_text(&q, 0, big, 1000), SPOOR_E_QUEUE_FULL);
    ring_cleanup(&q);
}

struct blocker {
    struct ring *q;
    int rc;
    double waited_ms;
};

static void *blocked_writer(void *arg)
{
    struct blocker *b = arg;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    b->rc = put_text(b->q, 99, "late", 2000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    b->waited_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    return NULL;
}

/* With a block time, a writer waits for the reader to free room instead of dropping. */
static void test_block_waits_for_room(void **state)
{
    struct ring q;
    assert_int_equal(ring_init(&q, 256, 1000), 0);
    char text[32];
    int n = 0;
    for (; n < 100; n++) {
        snprintf(text, sizeof text, "f-%d", n);
        if (put_text(&q, n, text, 0) != 0)
            break;
    }
    struct blocker b = {&q, -1, 0};
    pthread_t th;
    pthread_create(&th, NULL, blocked_writer, &b);
    struct timespec pause = {0, 150 * 1000000};
    nanosleep(&pause, NULL);
    int64_t seq = 0;
    assert_int_equal(drain(&q, &seq, "f-"), n);
    pthread_join(th, NULL);
    assert_int_equal(b.rc, 0);
    assert_true(b.waited_ms >= 100 && b.waited_ms < 1900);
    assert_int_equal(q.dropped, 1); /* only the probe that found the ring full */
    ring_cleanup(&q);
}

static void test_closing_refuses(void **state)
{
    struct ring q;
    assert_int_equal(ring_init(&q, 4096, 1000), 0);
    q.closing = true;
    assert_int_equal(put_text(&q, 0, "x", 100), SPOOR_E_CANCELED);
    ring_cleanup(&q);
}

struct producer {
    struct ring *q;
    int id;
    int n;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    char text[32];
    for (int i = 0; i < p->n; i++) {
        snprintf(text, sizeof text, "p%d", p->id);
        struct rec h = {.kind = REC_EVENT, .seq = i, .items = p->id};
        struct rec_str s[] = {{text, strlen(text)}};
        assert_int_equal(ring_put(p->q, &h, s, 1, 5000, NULL), 0);
    }
    return NULL;
}

/* 8 writers, one reader, a ring far smaller than the traffic: every record arrives once,
 * in each writer's order. */
static void test_many_writers_one_reader(void **state)
{
    enum { W = 8, N = 20000 };
    struct ring q;
    assert_int_equal(ring_init(&q, 16384, 64), 0);
    pthread_t th[W];
    struct producer p[W];
    for (int i = 0; i < W; i++) {
        p[i] = (struct producer){&q, i, N};
        pthread_create(&th[i], NULL, produce, &p[i]);
    }
    int64_t next[W] = {0};
    long total = 0;
    while (total < (long)W * N) {
        size_t from, to;
        uint64_t tickets;
        bool asked, closing;
        uint64_t gen;
        ring_take(&q, soon(5), &from, &to, &tickets, &asked, &closing, &gen);
        size_t pos = from;
        const struct rec *r;
        while ((r = ring_next(&q, &pos, to))) {
            int id = (int)r->items;
            assert_int_equal(r->seq, next[id]);
            next[id]++;
            total++;
        }
        ring_release(&q, to - from);
    }
    for (int i = 0; i < W; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(next[i], N);
    }
    assert_int_equal(q.dropped, 0);
    ring_cleanup(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrap_keeps_records_whole),
        cmocka_unit_test(test_full_ring_drops_and_counts),
        cmocka_unit_test(test_block_waits_for_room),
        cmocka_unit_test(test_closing_refuses),
        cmocka_unit_test(test_many_writers_one_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
