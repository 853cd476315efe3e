/*
 * keys.h: parsing of the S3 object keys Burr's S3TrackingClient writes (burr-compat.md 1.4):
 *
 *   data/<project>/YYYY/MM/DD/HH/<MM:SS[.ffffff][+00:00]>/<partition key or
 * __none__>/<app_id>/<file>
 *
 * Pure: a function over bytes, no allocation, no I/O. The indexer calls it on every listed key
 * and skips (never wedges on) the ones it refuses.
 */
#ifndef SPOOR_SERVER_KEYS_H
#define SPOOR_SERVER_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum key_file {
    KEY_FILE_GRAPH,    /* graph.json */
    KEY_FILE_METADATA, /* metadata.json (Burr misclassifies it as a log; we do not) */
    KEY_FILE_LOG,      /* <non-empty prefix, a uuid4 in practice>__log.jsonl */
    KEY_FILE_CHILDREN, /* children.jsonl: Burr's local fork/spawn records, as a local import
                          writes them (Burr's S3 client never does) */
};

/* Views into the parsed key (borrowed: valid while the key is), not NUL-terminated. */
struct key_parts {
    const char *project;
    size_t project_len;
    const char *partition_key; /* NULL with length 0 when the segment is __none__ */
    size_t partition_key_len;
    const char *app_id;
    size_t app_id_len;
    const char *filename;
    size_t filename_len;
    int year, month, day, hour, minute; /* UTC, from the five time segments */
    double second;                      /* seconds with the fraction, 0 <= second < 60 */
    enum key_file type;
};

/*
 * Parses key[0..len) into *out. Rules, all of which must hold:
 *  - the whole key is valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF)
 *    without NUL bytes;
 *  - exactly 10 '/'-separated segments (so a trailing '/' counts as an empty 11th segment);
 *  - segment 0 is exactly "data";
 *  - project and app id match ^[a-zA-Z0-9_\-:]+$ (Burr's id check, PR #795);
 *  - YYYY is 4 digits, MM 01-12, DD a real day of that month (leap years included), HH 00-23;
 *  - the minute segment is MM:SS, MM:SS.f to MM:SS.ffffff (1-6 digits), either optionally
 *    followed by "+00:00" (the timezone-aware form of newer Burr); MM and SS are 00-59. A leap
 *    second (60) is refused: Python's datetime, which writes these keys, cannot produce one;
 *  - the partition key segment is non-empty; "__none__" means no partition key; otherwise any
 *    UTF-8 text without '/' is accepted;
 *  - the file name is exactly "graph.json" or "metadata.json", or ends in "__log.jsonl" after a
 *    non-empty prefix. Local-layout "log.jsonl" and anything else are refused.
 * Returns 0, or SPOOR_E_INVALID with *why (if why is not NULL) set to a static reason such as
 * "wrong number of segments", "bad year", "empty app id" or "unknown file name". *out is only
 * meaningful on success.
 */
int key_parse(const char *key, size_t len, struct key_parts *out, const char **why);

/* Whether s[0..n) is a project or app id as key_parse accepts them: ^[a-zA-Z0-9_\-:]+$. */
bool key_id_valid(const char *s, size_t n);
/* Whether s[0..n) is a partition key segment as key_parse accepts it: non-empty valid UTF-8
 * without NUL or '/'. */
bool key_partition_valid(const char *s, size_t n);

#endif
