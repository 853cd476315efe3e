/*
 * s3_xml.c: S3's XML answers parsed into the structs of <spoor/s3.h>, and the two XML request
 * bodies spoor sends (DeleteObjects, CompleteMultipartUpload). See s3_xml.h.
 *
 * It is not a general XML layer. Each parser knows one document: it checks the root element,
 * matches children by local name only (AWS puts its elements in the 2006-03-01 namespace, RGW
 * and AWS's <Error> use none, and some S3 look-alikes use other spellings), reads the fields it
 * knows and skips the rest, so new fields from AWS or RGW do not break it.
 *
 * Invariants:
 * - libxml2 runs without entity substitution, network or DTD loading; a document with a DOCTYPE
 *   is refused (S3 never sends one), and text is read node by node, never with
 *   xmlNodeGetContent(), which would expand entity references. An entity bomb therefore costs
 *   at most what libxml2's own amplification guard allows while parsing, and is then refused.
 * - A parser fills a zeroed out-struct and, on any error, frees what it built and leaves the
 *   struct zeroed again; err names the element that was wrong.
 * - A builder validates everything before appending, and if an append fails (the buffer's
 *   ceiling) it truncates the buffer back to where it was.
 *
 * encoding-type=url: AWS writes a space as '+' (and '+' as %2B), RGW writes it as %20 (and '+'
 * as %2B), so '+' is decoded as a space. This is what botocore does (decode_list_object_v2 in
 * botocore/handlers.py calls unquote_str, which is urllib's unquote_plus) and what aws-amplify's
 * urlDecode does. Continuation tokens are opaque and never decoded: AWS's are base64 with '+',
 * RGW's are the plain last key. RGW 16.2 also sends the echoes of the request (Prefix, Delimiter,
 * StartAfter) unencoded under encoding-type=url, while AWS encodes them: an echo that does not
 * decode is kept as sent, and one holding '+' from RGW comes back with a space (as in botocore).
 * Keys and common prefixes are encoded by both and must decode.
 */
#include "s3_xml.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "uri.h"
#include "util.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"
#define MAX_DELETE_KEYS 1000
#define MAX_PART_NUMBER 10000

/* ---- reading ------------------------------------------------------------------------------ */

static bool is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const char *elem_name(const xmlNode *n)
{
    return (const char *)n->name;
}

/* A printable copy of s for messages: at most 40 bytes, control bytes shown as '?'. */
static const char *snippet(const char *s, char out[48])
{
    size_t i = 0;
    for (; s && s[i] && i < 40; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[i] = '\0';
    if (s && s[i])
        memcpy(out + i, "...", 4);
    return out;
}

/* Parses body into *docp and checks that its root is one of roots (NULL-terminated). */
static int doc_read(const char *body, size_t len, const char *const *roots, xmlDoc **docp,
                    xmlNode **rootp, struct spoor_error *err)
{
    *docp = NULL;
    if (!body || len == 0)
        return spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: empty body where <%s> was expected",
                               roots[0]);
    if (len > S3_XML_MAX_BYTES)
        return spoor_error_set(err, SPOOR_E_TOO_LARGE,
                               "S3 answer: XML body of %zu bytes is over the %u byte limit", len,
                               S3_XML_MAX_BYTES);
    xmlInitParser();
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    if (!ctxt)
        abort(); /* allocation failure (STYLE.md) */
    int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL, opts);
    if (!doc || !ctxt->wellFormed) {
        const char *msg = ctxt->lastError.message ? ctxt->lastError.message : "unknown error";
        int n = (int)strcspn(msg, "\n");
        spoor_error_set(err, SPOOR_E_PARSE, "S3 answer is not well-formed XML (line %d: %.*s)",
                        ctxt->lastError.line, n, msg);
        xmlFreeDoc(doc);
        xmlFreeParserCtxt(ctxt);
        return SPOOR_E_PARSE;
    }
    xmlFreeParserCtxt(ctxt);
    int rc = 0;
    xmlNode *root = xmlDocGetRootElement(doc);
    if (doc->intSubset || doc->extSubset) {
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer has a DOCTYPE, which S3 never sends");
        goto fail;
    }
    if (!root) {
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer has no root element");
        goto fail;
    }
    for (size_t i = 0; roots[i]; i++) {
        if (is_elem(root, roots[i])) {
            *docp = doc;
            *rootp = root;
            return 0;
        }
    }
    rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: expected <%s>, got <%s>", roots[0],
                         elem_name(root));
fail:
    xmlFreeDoc(doc);
    return rc;
}

/* Appends the text of element n to out: its text and CDATA children. An element or an entity
 * reference inside is refused (an entity is never expanded); comments are skipped. */
static int text_collect(const xmlNode *n, struct buf *out, struct spoor_error *err)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content && buf_append_str(out, (const char *)c->content))
                return spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <%s> is too long",
                                       elem_name(n));
        } else if (c->type == XML_ELEMENT_NODE || c->type == XML_ENTITY_REF_NODE) {
            return spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <%s> holds %s, not just text",
                                   elem_name(n),
                                   c->type == XML_ELEMENT_NODE ? "an element" : "an entity");
        }
    }
    return 0;
}

/* Replaces *out (freed) with the text of n (new), url-decoded when url. */
static int text_dup(const xmlNode *n, bool url, char **out, struct spoor_error *err)
{
    struct buf raw, dec;
    buf_init(&raw, S3_XML_MAX_BYTES);
    buf_init(&dec, S3_XML_MAX_BYTES);
    int rc = text_collect(n, &raw, err);
    if (rc)
        goto fail;
    if (url && uri_decode(&dec, raw.data, raw.len, true) != 0) {
        char s[48];
        rc =
            spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <%s> is not valid url-encoding: \"%s\"",
                            elem_name(n), snippet(raw.data, s));
        goto fail;
    }
    free(*out);
    *out = buf_take(url ? &dec : &raw, NULL);
fail:
    buf_cleanup(&raw);
    buf_cleanup(&dec);
    return rc;
}

/* The text of n as a decimal number from 0 to max: digits only, no sign, no spaces. */
static int number_read(const xmlNode *n, int64_t max, int64_t *v, struct spoor_error *err)
{
    struct buf t;
    buf_init(&t, S3_XML_MAX_BYTES);
    int rc = text_collect(n, &t, err);
    if (rc)
        goto fail;
    const char *s = t.data ? t.data : "";
    char *end = NULL;
    long long x = 0;
    errno = 0;
    if (s[0] >= '0' && s[0] <= '9')
        x = strtoll(s, &end, 10);
    if (!end || *end != '\0' || errno == ERANGE || x > max) {
        char sn[48];
        rc = spoor_error_set(err, SPOOR_E_PARSE,
                             "S3 answer: <%s> is not a number from 0 to %lld: \"%s\"", elem_name(n),
                             (long long)max, snippet(s, sn));
        goto fail;
    }
    *v = x;
fail:
    buf_cleanup(&t);
    return rc;
}

static int int_read(const xmlNode *n, int *v, struct spoor_error *err)
{
    int64_t x = 0;
    int rc = number_read(n, INT_MAX, &x, err);
    if (rc == 0)
        *v = (int)x;
    return rc;
}

static int bool_read(const xmlNode *n, bool *v, struct spoor_error *err)
{
    char *s = NULL;
    int rc = text_dup(n, false, &s, err);
    if (rc == 0 && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *v = s[0] == 't';
    } else if (rc == 0) {
        char sn[48];
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <%s> is not true or false: \"%s\"",
                             elem_name(n), snippet(s, sn));
    }
    free(s);
    return rc;
}

/* Grows arr (count *n) by one zeroed element of size bytes; capacity doubles at powers of two. */
static void *array_push(void *arr, size_t *n, size_t size)
{
    if ((*n & (*n - 1)) == 0)
        arr = xrealloc(arr, (*n ? 2 * *n : 1) * size);
    memset((char *)arr + *n * size, 0, size);
    (*n)++;
    return arr;
}

/* ---- <Error> ------------------------------------------------------------------------------ */

#define ERROR_FIELD(tag, member)                                                                   \
    {                                                                                              \
        tag, offsetof(struct s3_xml_error, member), sizeof(((struct s3_xml_error *)0)->member)     \
    }

static int error_read(const xmlNode *root, struct s3_xml_error *out, struct spoor_error *err)
{
    static const struct {
        const char *tag;
        size_t offset;
        size_t size;
    } fields[] = {
        ERROR_FIELD("Code", code),
        ERROR_FIELD("Message", message),
        ERROR_FIELD("RequestId", request_id),
        ERROR_FIELD("Resource", resource),
        ERROR_FIELD("BucketName", bucket_name),
        ERROR_FIELD("Key", key),
    };
    memset(out, 0, sizeof *out);
    for (const xmlNode *c = root->children; c; c = c->next) {
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (!is_elem(c, fields[i].tag))
                continue;
            char *s = NULL;
            int rc = text_dup(c, false, &s, err);
            if (rc) {
                memset(out, 0, sizeof *out);
                return rc;
            }
            str_copy((char *)out + fields[i].offset, fields[i].size, s);
            free(s);
        }
    }
    return 0;
}

int s3_xml_parse_error(const char *body, size_t len, struct s3_xml_error *out)
{
    static const char *const roots[] = {"Error", NULL};
    xmlDoc *doc = NULL;
    xmlNode *root = NULL;
    memset(out, 0, sizeof *out);
    int rc = doc_read(body, len, roots, &doc, &root, NULL);
    if (rc == 0)
        rc = error_read(root, out, NULL);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- <ListBucketResult> ------------------------------------------------------------------- */

void s3_xml_list_cleanup(struct spoor_s3_list *l)
{
    free(l->name);
    free(l->prefix);
    free(l->delimiter);
    free(l->start_after);
    free(l->continuation_token);
    free(l->next_continuation_token);
    for (size_t i = 0; i < l->nobjects; i++) {
        free(l->objects[i].key);
        free(l->objects[i].etag);
        free(l->objects[i].last_modified);
        free(l->objects[i].storage_class);
    }
    free(l->objects);
    for (size_t i = 0; i < l->nprefixes; i++)
        free(l->common_prefixes[i]);
    free(l->common_prefixes);
    memset(l, 0, sizeof *l);
}

static int list_object_read(const xmlNode *n, bool url, struct spoor_s3_object *o,
                            struct spoor_error *err)
{
    bool has_size = false;
    int rc = 0;
    for (const xmlNode *c = n->children; c && rc == 0; c = c->next) {
        if (is_elem(c, "Key")) {
            rc = text_dup(c, url, &o->key, err);
        } else if (is_elem(c, "ETag")) {
            rc = text_dup(c, false, &o->etag, err);
        } else if (is_elem(c, "LastModified")) {
            rc = text_dup(c, false, &o->last_modified, err);
        } else if (is_elem(c, "StorageClass")) {
            rc = text_dup(c, false, &o->storage_class, err);
        } else if (is_elem(c, "Size")) {
            rc = number_read(c, INT64_MAX, &o->size, err);
            has_size = true;
        }
    }
    if (rc == 0 && !o->key)
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <Contents> without <Key>");
    if (rc == 0 && !has_size)
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <Contents> without <Size>");
    return rc;
}

static int list_prefix_read(const xmlNode *n, bool url, char **out, struct spoor_error *err)
{
    int rc = 0;
    for (const xmlNode *c = n->children; c && rc == 0; c = c->next)
        if (is_elem(c, "Prefix"))
            rc = text_dup(c, url, out, err);
    if (rc == 0 && !*out)
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <CommonPrefixes> without <Prefix>");
    return rc;
}

/* An echo of the request: decoded when it decodes, else kept as sent (see the file comment). */
static int echo_dup(const xmlNode *n, bool url, char **out, struct spoor_error *err)
{
    if (url && text_dup(n, true, out, NULL) == 0)
        return 0;
    return text_dup(n, false, out, err);
}

/* Reads one child of <ListBucketResult>; unknown ones are skipped. */
static int list_field_read(const xmlNode *c, bool url, struct spoor_s3_list *l,
                           struct spoor_error *err)
{
    if (is_elem(c, "Contents")) {
        l->objects = array_push(l->objects, &l->nobjects, sizeof *l->objects);
        return list_object_read(c, url, &l->objects[l->nobjects - 1], err);
    }
    if (is_elem(c, "CommonPrefixes")) {
        l->common_prefixes = array_push(l->common_prefixes, &l->nprefixes, sizeof(char *));
        return list_prefix_read(c, url, &l->common_prefixes[l->nprefixes - 1], err);
    }
    if (is_elem(c, "Name"))
        return text_dup(c, false, &l->name, err);
    if (is_elem(c, "Prefix"))
        return echo_dup(c, url, &l->prefix, err);
    if (is_elem(c, "Delimiter"))
        return echo_dup(c, url, &l->delimiter, err);
    if (is_elem(c, "StartAfter"))
        return echo_dup(c, url, &l->start_after, err);
    if (is_elem(c, "ContinuationToken"))
        return text_dup(c, false, &l->continuation_token, err);
    if (is_elem(c, "NextContinuationToken"))
        return text_dup(c, false, &l->next_continuation_token, err);
    if (is_elem(c, "IsTruncated"))
        return bool_read(c, &l->is_truncated, err);
    if (is_elem(c, "KeyCount"))
        return int_read(c, &l->key_count, err);
    if (is_elem(c, "MaxKeys"))
        return int_read(c, &l->max_keys, err);
    return 0;
}

/* <EncodingType> may come after the fields it applies to, so it is looked up first. */
static int list_encoding_read(const xmlNode *root, bool *url, struct spoor_error *err)
{
    int rc = 0;
    for (const xmlNode *c = root->children; c && rc == 0; c = c->next) {
        if (!is_elem(c, "EncodingType"))
            continue;
        char *s = NULL, sn[48];
        rc = text_dup(c, false, &s, err);
        if (rc == 0 && strcmp(s, "url") == 0)
            *url = true;
        else if (rc == 0 && s[0] != '\0')
            rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: unknown <EncodingType> \"%s\"",
                                 snippet(s, sn));
        free(s);
    }
    return rc;
}

int s3_xml_parse_list(const char *body, size_t len, struct spoor_s3_list *out,
                      struct spoor_error *err)
{
    static const char *const roots[] = {"ListBucketResult", NULL};
    xmlDoc *doc = NULL;
    xmlNode *root = NULL;
    bool url = false;
    memset(out, 0, sizeof *out);
    int rc = doc_read(body, len, roots, &doc, &root, err);
    if (rc)
        goto fail;
    rc = list_encoding_read(root, &url, err);
    for (const xmlNode *c = root->children; c && rc == 0; c = c->next)
        rc = list_field_read(c, url, out, err);
    if (rc == 0 && !out->is_truncated) {
        free(out->next_continuation_token);
        out->next_continuation_token = NULL;
    }
fail:
    if (rc)
        s3_xml_list_cleanup(out);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- multipart and copy ------------------------------------------------------------------- */

int s3_xml_parse_initiate(const char *body, size_t len, char **upload_id, struct spoor_error *err)
{
    static const char *const roots[] = {"InitiateMultipartUploadResult", NULL};
    xmlDoc *doc = NULL;
    xmlNode *root = NULL;
    *upload_id = NULL;
    int rc = doc_read(body, len, roots, &doc, &root, err);
    for (const xmlNode *c = root ? root->children : NULL; c && rc == 0; c = c->next)
        if (is_elem(c, "UploadId"))
            rc = text_dup(c, false, upload_id, err);
    if (rc == 0 && (!*upload_id || !**upload_id))
        rc = spoor_error_set(err, SPOOR_E_PARSE,
                             "S3 answer: <InitiateMultipartUploadResult> without <UploadId>");
    if (rc) {
        free(*upload_id);
        *upload_id = NULL;
    }
    xmlFreeDoc(doc);
    return rc;
}

/* An <Error> document in a 200 answer: SPOOR_E_S3 with the service's code and request id. */
static int error_report(const xmlNode *root, struct s3_xml_error *s3err, struct spoor_error *err)
{
    struct s3_xml_error e;
    int rc = error_read(root, &e, err);
    if (rc)
        return rc;
    if (s3err)
        *s3err = e;
    spoor_error_set(err, SPOOR_E_S3, "S3 answered 200 with an error: %s: %s",
                    e.code[0] ? e.code : "(no code)", e.message[0] ? e.message : "(no message)");
    if (err) {
        str_copy(err->s3_code, sizeof err->s3_code, e.code);
        str_copy(err->request_id, sizeof err->request_id, e.request_id);
    }
    return SPOOR_E_S3;
}

int s3_xml_parse_etag_result(const char *body, size_t len, char **etag, struct s3_xml_error *s3err,
                             struct spoor_error *err)
{
    static const char *const roots[] = {"CompleteMultipartUploadResult", "CopyObjectResult",
                                        "CopyPartResult", "Error", NULL};
    xmlDoc *doc = NULL;
    xmlNode *root = NULL;
    *etag = NULL;
    if (s3err)
        memset(s3err, 0, sizeof *s3err);
    int rc = doc_read(body, len, roots, &doc, &root, err);
    if (rc)
        goto fail;
    if (is_elem(root, "Error")) {
        rc = error_report(root, s3err, err);
        goto fail;
    }
    for (const xmlNode *c = root->children; c && rc == 0; c = c->next)
        if (is_elem(c, "ETag"))
            rc = text_dup(c, false, etag, err);
    /* RGW 16.2 sends <ETag></ETag> on complete; a missing one is taken the same way. */
    if (rc == 0 && !*etag)
        *etag = xstrdup("");
fail:
    if (rc) {
        free(*etag);
        *etag = NULL;
    }
    xmlFreeDoc(doc);
    return rc;
}

/* ---- <DeleteResult> ----------------------------------------------------------------------- */

static int deleted_read(const xmlNode *n, char **key, struct spoor_error *err)
{
    int rc = 0;
    for (const xmlNode *c = n->children; c && rc == 0; c = c->next)
        if (is_elem(c, "Key"))
            rc = text_dup(c, false, key, err);
    if (rc == 0 && !*key)
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <Deleted> without <Key>");
    return rc;
}

static int delete_error_read(const xmlNode *n, struct spoor_s3_delete_error *e,
                             struct spoor_error *err)
{
    int rc = 0;
    for (const xmlNode *c = n->children; c && rc == 0; c = c->next) {
        if (is_elem(c, "Key"))
            rc = text_dup(c, false, &e->key, err);
        else if (is_elem(c, "Code"))
            rc = text_dup(c, false, &e->code, err);
        else if (is_elem(c, "Message"))
            rc = text_dup(c, false, &e->message, err);
    }
    if (rc == 0 && !e->key)
        rc = spoor_error_set(err, SPOOR_E_PARSE, "S3 answer: <DeleteResult><Error> without <Key>");
    if (rc == 0 && !e->code)
        e->code = xstrdup("");
    if (rc == 0 && !e->message)
        e->message = xstrdup("");
    return rc;
}

static void delete_result_free(char **deleted, size_t ndeleted,
                               struct spoor_s3_delete_error *errors, size_t nerrors)
{
    for (size_t i = 0; i < ndeleted; i++)
        free(deleted[i]);
    free(deleted);
    for (size_t i = 0; i < nerrors; i++) {
        free(errors[i].key);
        free(errors[i].code);
        free(errors[i].message);
    }
    free(errors);
}

int s3_xml_parse_delete_result(const char *body, size_t len, char ***deleted, size_t *ndeleted,
                               struct spoor_s3_delete_error **errors, size_t *nerrors,
                               struct spoor_error *err)
{
    static const char *const roots[] = {"DeleteResult", NULL};
    xmlDoc *doc = NULL;
    xmlNode *root = NULL;
    char **del = NULL;
    struct spoor_s3_delete_error *errs = NULL;
    size_t ndel = 0, nerr = 0;
    *deleted = NULL;
    *errors = NULL;
    *ndeleted = *nerrors = 0;
    int rc = doc_read(body, len, roots, &doc, &root, err);
    for (const xmlNode *c = root ? root->children : NULL; c && rc == 0; c = c->next) {
        if (is_elem(c, "Deleted")) {
            del = array_push(del, &ndel, sizeof *del);
            rc = deleted_read(c, &del[ndel - 1], err);
        } else if (is_elem(c, "Error")) {
            errs = array_push(errs, &nerr, sizeof *errs);
            rc = delete_error_read(c, &errs[nerr - 1], err);
        }
    }
    if (rc) {
        delete_result_free(del, ndel, errs, nerr);
    } else {
        *deleted = del;
        *ndeleted = ndel;
        *errors = errs;
        *nerrors = nerr;
    }
    xmlFreeDoc(doc);
    return rc;
}

/* ---- building ----------------------------------------------------------------------------- */

/* True when s can be carried as XML 1.0 character data: well-formed UTF-8 (no overlong forms,
 * surrogates or U+FFFE/U+FFFF) and no control characters other than tab, LF and CR. */
static bool xml_text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, n;
        uint32_t cp, min;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return false;
            p++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
            cp == 0xFFFF)
            return false;
        p += n + 1;
    }
    return true;
}

/* Appends s as character data. CR is written as a reference because a parser would otherwise
 * turn it into LF (XML 1.0 section 2.11) and the key would change on the way. */
static int text_escape(struct buf *out, const char *s)
{
    for (; *s; s++) {
        const char *e = NULL;
        switch (*s) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&apos;";
            break;
        case '\r':
            e = "&#13;";
            break;
        default:
            break;
        }
        int rc = e ? buf_append_str(out, e) : buf_append_byte(out, *s);
        if (rc)
            return rc;
    }
    return 0;
}

static void buf_truncate(struct buf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

int s3_xml_build_delete(struct buf *out, const char *const *keys, size_t nkeys, bool quiet)
{
    if (nkeys == 0 || nkeys > MAX_DELETE_KEYS)
        return SPOOR_E_INVALID;
    for (size_t i = 0; i < nkeys; i++)
        if (!keys[i] || keys[i][0] == '\0' || !xml_text_ok(keys[i]))
            return SPOOR_E_INVALID;
    size_t start = out->len;
    int rc = buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                 "<Delete xmlns=\"" S3_NS "\">");
    if (rc == 0 && quiet)
        rc = buf_append_str(out, "<Quiet>true</Quiet>");
    for (size_t i = 0; i < nkeys && rc == 0; i++) {
        rc = buf_append_str(out, "<Object><Key>");
        if (rc == 0)
            rc = text_escape(out, keys[i]);
        if (rc == 0)
            rc = buf_append_str(out, "</Key></Object>");
    }
    if (rc == 0)
        rc = buf_append_str(out, "</Delete>");
    if (rc)
        buf_truncate(out, start);
    return rc;
}

int s3_xml_build_complete(struct buf *out, const struct spoor_s3_part *parts, size_t nparts)
{
    if (nparts == 0 || nparts > MAX_PART_NUMBER)
        return SPOOR_E_INVALID;
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].part_number < 1 || parts[i].part_number > MAX_PART_NUMBER || !parts[i].etag ||
            !xml_text_ok(parts[i].etag))
            return SPOOR_E_INVALID;
    size_t start = out->len;
    int rc = buf_append_str(out, "<CompleteMultipartUpload xmlns=\"" S3_NS "\">");
    for (size_t i = 0; i < nparts && rc == 0; i++) {
        rc = buf_printf(out, "<Part><PartNumber>%d</PartNumber><ETag>", parts[i].part_number);
        if (rc == 0)
            rc = text_escape(out, parts[i].etag);
        if (rc == 0)
            rc = buf_append_str(out, "</ETag></Part>");
    }
    if (rc == 0)
        rc = buf_append_str(out, "</CompleteMultipartUpload>");
    if (rc)
        buf_truncate(out, start);
    return rc;
}
