/*
 * s3_xml.h: parsing of S3's XML answers and building of its XML requests (libxml2).
 * Pure functions over bytes: no socket, no clock.
 *
 * Parsers take the raw body (not necessarily NUL-terminated) and fill a caller-provided struct
 * from <spoor/s3.h>, which the caller frees (spoor_s3_result_cleanup frees the ones inside a
 * result). On malformed input (not XML, wrong root element, a field that should be a number and
 * is not, a url-encoded field that does not decode) they return SPOOR_E_PARSE, fill err with a
 * message naming the element, and leave nothing allocated. Entity expansion and network access
 * are disabled (XML_PARSE_NONET, no XML_PARSE_NOENT, no DTD loading), and bodies above
 * S3_XML_MAX_BYTES are refused.
 */
#ifndef SPOOR_S3_XML_H
#define SPOOR_S3_XML_H

#include <stddef.h>

#include <spoor/error.h>
#include <spoor/s3.h>

#include "buf.h"

#define S3_XML_MAX_BYTES (16u * 1024 * 1024)

/* An S3 <Error> document. Strings are "" when absent. */
struct s3_xml_error {
    char code[64];
    char message[512];
    char request_id[128];
    char resource[256];
    char bucket_name[256];
    char key[512];
};

/* <Error>: fills out. Returns SPOOR_E_PARSE if body is not an <Error> document. */
int s3_xml_parse_error(const char *body, size_t len, struct s3_xml_error *out);

/* <ListBucketResult> (ListObjectsV2). When <EncodingType>url</EncodingType> is present,
 * Key, Prefix (of CommonPrefixes and the echo), Delimiter and StartAfter are url-decoded. */
int s3_xml_parse_list(const char *body, size_t len, struct spoor_s3_list *out,
                      struct spoor_error *err);
void s3_xml_list_cleanup(struct spoor_s3_list *l);

/* <InitiateMultipartUploadResult>: *upload_id (new) from <UploadId>. */
int s3_xml_parse_initiate(const char *body, size_t len, char **upload_id, struct spoor_error *err);

/* <CompleteMultipartUploadResult> or <CopyObjectResult> (and <CopyPartResult>): *etag (new,
 * may be "" because some services send an empty ETag; quotes kept as sent). If the body is an
 * <Error> document instead (S3 can answer 200 with an error), returns SPOOR_E_S3 and fills
 * *s3err. */
int s3_xml_parse_etag_result(const char *body, size_t len, char **etag, struct s3_xml_error *s3err,
                             struct spoor_error *err);

/* <DeleteResult>: keys in <Deleted> and <Error> entries (new arrays). */
int s3_xml_parse_delete_result(const char *body, size_t len, char ***deleted, size_t *ndeleted,
                               struct spoor_s3_delete_error **errors, size_t *nerrors,
                               struct spoor_error *err);

/* Appends a <Delete> request body for keys (with <Quiet>true</Quiet> when quiet). Keys are
 * XML-escaped; a key with a byte XML 1.0 cannot carry (control characters other than tab, LF,
 * CR) is SPOOR_E_INVALID. */
int s3_xml_build_delete(struct buf *out, const char *const *keys, size_t nkeys, bool quiet);

/* Appends a <CompleteMultipartUpload> request body listing parts in the given order. */
int s3_xml_build_complete(struct buf *out, const struct spoor_s3_part *parts, size_t nparts);

#endif
