/*
 * static_files.h
 *		Serving the front end from pg_dash.www_dir.
 */
#ifndef PG_DASH_STATIC_FILES_H
#define PG_DASH_STATIC_FILES_H

#include "conn.h"

extern void static_serve(Conn *conn, HttpRequest *req);
extern void static_serve_file(Conn *conn, HttpRequest *req, const char *relpath);
extern void static_serve_document(Conn *conn, HttpRequest *req, const char *relpath, const char *json);

#endif							/* PG_DASH_STATIC_FILES_H */
