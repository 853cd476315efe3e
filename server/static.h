/*
 * static.h: the web UI's files. spoor-server serves one folder (ui/ in the source tree, installed
 * as <prefix>/share/spoor/ui) for every GET or HEAD that no API route takes (api.h).
 *
 * The UI is a single-page application: a path that names no file (and has no file extension)
 * is answered with the folder's index.html, so that the UI's own routes survive a reload. A
 * missing path with an extension (/static/app.js) is a 404 instead, so a broken asset link shows
 * as an error and not as HTML in a script tag. Nothing outside the folder is ever opened.
 */
#ifndef SPOOR_SERVER_STATIC_H
#define SPOOR_SERVER_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include <spoor/error.h>

#include "http.h"

/*
 * Picks the UI folder and writes its realpath into out[size].
 *  - configured non-empty (SPOOR_UI_DIR / --ui-dir): it must be a directory holding index.html;
 *    otherwise SPOOR_E_CONFIG with a message naming it and saying to fix SPOOR_UI_DIR or
 *    --ui-dir.
 *  - configured NULL or "": the first of <directory of /proc/self/exe>/../share/spoor/ui (the
 *    installed layout) and the source tree's ui/ (compiled in) that holds index.html; -ENOENT
 *    with both names in the message when neither does (the server then runs without a UI).
 * -ENAMETOOLONG when the realpath does not fit in out. 0 on success.
 */
int static_ui_dir(const char *configured, char *out, size_t size, struct spoor_error *err);

/*
 * Answers a GET or HEAD of path (percent-decoded, starts with '/') from root (a realpath'd
 * folder, as static_ui_dir gives) into *r. Sets status, content_type, etag and cache_control,
 * and either fd/fd_size (a file opened read-only; the HTTP layer sends and closes it) with
 * body NULL, or a JSON body {"detail":"..."} (new) with fd -1. Other fields are left alone.
 *
 *  200  a regular file under root; its content type comes from its extension (charset=utf-8
 *       for text; application/octet-stream when unknown). ETag "<hex size>-<hex mtime ns>";
 *       Cache-Control "no-cache" for every file: browsers revalidate with the ETag (the API
 *       answers 304 when it still matches), so a new UI is picked up at once and never mixed
 *       with cached old modules.
 *  200  root/index.html for "/", for a directory, and for a missing path whose last segment
 *       has no '.' (the SPA fallback).
 *  404  a missing path whose last segment has an extension; any segment starting with '.'
 *       (dotfiles, "." and ".."); a backslash; a path that resolves (through symlinks)
 *       outside root; anything that is not a regular file or directory; no index.html.
 *
 * head: HEAD is answered exactly like GET, fd included, because the HTTP layer takes
 * Content-Length from fd_size and leaves out the body itself.
 */
void static_serve(const char *root, const char *path, bool head, struct http_reply *r);

#endif
