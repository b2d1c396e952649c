/*
 * static_files.c
 *		Serves the front end from pg_dash.www_dir.
 *
 * Every response carries an ETag (size and modification time) and a
 * Last-Modified date, and a matching If-None-Match or If-Modified-Since gets
 * 304.  Text assets are sent gzip-compressed to clients that accept it: the
 * build installs a precompressed "name.gz" beside each one; files without
 * one (a user's own www_dir) are compressed on the fly.  Cache-Control is
 * no-cache, so browsers revalidate with the ETag and always see the
 * installed version.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/hashfn.h"
#include "storage/fd.h"

#include "guc.h"
#include "http_response.h"
#include "static_files.h"
#include "transport.h"

/* Files smaller than this are not worth compressing. */
#define STATIC_GZIP_MIN_SIZE 512

/* Largest file served; the front end's own files are far smaller. */
#define STATIC_MAX_FILE_SIZE (64 * 1024 * 1024)

typedef struct MimeType
{
	const char *ext;
	const char *type;
	bool		compressible;
} MimeType;

static const MimeType mime_types[] = {
	{"html", "text/html; charset=utf-8", true},
	{"js", "text/javascript; charset=utf-8", true},
	{"mjs", "text/javascript; charset=utf-8", true},
	{"css", "text/css; charset=utf-8", true},
	{"json", "application/json; charset=utf-8", true},
	{"map", "application/json; charset=utf-8", true},
	{"svg", "image/svg+xml", true},
	{"txt", "text/plain; charset=utf-8", true},
	{"md", "text/markdown; charset=utf-8", true},
	{"csv", "text/csv; charset=utf-8", true},
	{"png", "image/png", false},
	{"jpg", "image/jpeg", false},
	{"jpeg", "image/jpeg", false},
	{"gif", "image/gif", false},
	{"webp", "image/webp", false},
	{"ico", "image/x-icon", false},
	{"woff", "font/woff", false},
	{"woff2", "font/woff2", false},
	{"wasm", "application/wasm", false},
};

/* The MIME type of a file name, by extension. */
static const MimeType *
static_mime_type(const char *path)
{
	static const MimeType unknown = {"", "application/octet-stream", false};
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');
	int			i;

	if (dot == NULL || (slash != NULL && dot < slash))
		return &unknown;
	for (i = 0; i < lengthof(mime_types); i++)
		if (pg_strcasecmp(dot + 1, mime_types[i].ext) == 0)
			return &mime_types[i];
	return &unknown;
}

/*
 * True when a decoded URL path is safe to join to www_dir: no "." or ".."
 * segments, no hidden files, no backslashes.
 */
static bool
static_path_is_safe(const char *path)
{
	const char *seg = path;

	if (strchr(path, '\\') != NULL)
		return false;
	while (*seg)
	{
		while (*seg == '/')
			seg++;
		if (*seg == '.')
			return false;		/* ".", "..", and dot files */
		while (*seg && *seg != '/')
			seg++;
	}
	return true;
}

/* Reads a whole file into memory; NULL when it cannot. */
static char *
static_read_file(const char *path, size_t size)
{
	char	   *data;
	size_t		done = 0;
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);

	if (fd < 0)
		return NULL;
	data = palloc(size + 1);
	while (done < size)
	{
		ssize_t		n = read(fd, data + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			CloseTransientFile(fd);
			pfree(data);
			return NULL;
		}
		done += n;
	}
	CloseTransientFile(fd);
	return data;
}

/* Gzip-compresses a buffer; NULL when compression fails. */
static char *
static_gzip(const char *data, size_t len, size_t *out_len)
{
	z_stream	zs;
	uLong		bound;
	char	   *out;

	memset(&zs, 0, sizeof(zs));
	/* 15 window bits + 16 selects the gzip wrapper */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	bound = deflateBound(&zs, len) + 32;
	out = palloc(bound);
	zs.next_in = (Bytef *) data;
	zs.avail_in = len;
	zs.next_out = (Bytef *) out;
	zs.avail_out = bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
	{
		deflateEnd(&zs);
		pfree(out);
		return NULL;
	}
	*out_len = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* True when the If-None-Match header lists the ETag (or is "*"). */
static bool
static_etag_matches(const char *header, size_t len, const char *etag)
{
	size_t		etag_len = strlen(etag);
	size_t		i = 0;

	while (i < len)
	{
		size_t		start;

		while (i < len && (header[i] == ' ' || header[i] == '\t' || header[i] == ','))
			i++;
		if (i < len && header[i] == '*')
			return true;
		/* weak comparison: W/"x" matches "x" */
		if (i + 2 <= len && header[i] == 'W' && header[i + 1] == '/')
			i += 2;
		start = i;
		while (i < len && header[i] != ',')
			i++;
		while (i > start && (header[i - 1] == ' ' || header[i - 1] == '\t'))
			i--;
		if (i - start == etag_len && memcmp(header + start, etag, etag_len) == 0)
			return true;
		while (i < len && header[i] != ',')
			i++;
	}
	return false;
}

/* Formats a time as an HTTP date. */
static void
static_http_date(time_t t, char *buf, size_t size)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* True when If-Modified-Since is at or after the file's modification time. */
static bool
static_not_modified_since(const HttpRequest *req, time_t mtime)
{
	size_t		len;
	const char *value = http_request_header(req, "If-Modified-Since", &len);
	char		buf[64];
	struct tm	tm;

	if (value == NULL || len >= sizeof(buf))
		return false;
	memcpy(buf, value, len);
	buf[len] = '\0';
	memset(&tm, 0, sizeof(tm));
	if (strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
		return false;
	return timegm(&tm) >= mtime;
}

/*
 * index.html under pg_dash.base_path: a <meta name="pg-dash-base"> that the
 * front end builds every URL from (base.js), and the page's own absolute
 * URLs (href="/...", src="/...") moved under the base.  The base holds only
 * characters that need no escaping (its check hook), and CSP forbids <base>.
 */
static char *
static_rebase_index(const char *body, size_t len, size_t *out_len)
{
	StringInfoData out;
	const char *base = pg_dash_base_path;
	const char *head = memmem(body, len, "<head>", 6);
	size_t		i = 0;

	initStringInfo(&out);
	if (head != NULL)
	{
		i = head - body + strlen("<head>");
		appendBinaryStringInfo(&out, body, i);
	}
	appendStringInfo(&out, "\n<meta name=\"pg-dash-base\" content=\"%s\">", base);
	while (i < len)
	{
		if ((i + 7 <= len && memcmp(body + i, "href=\"/", 7) == 0) ||
			(i + 6 <= len && memcmp(body + i, "src=\"/", 6) == 0))
		{
			size_t		n = body[i] == 'h' ? 6 : 5;

			appendBinaryStringInfo(&out, body + i, n);
			appendStringInfoString(&out, base);
			i += n;
			continue;
		}
		appendStringInfoChar(&out, body[i++]);
	}
	*out_len = out.len;
	return out.data;
}

/* Answers a JSON 404 for a missing file. */
static void
static_not_found(Conn *conn, HttpRequest *req)
{
	http_reply_error(conn, req, 404, "not_found",
					 psprintf("file not found: %s", req->path), NULL, NULL);
}

/*
 * Serves one file, given as a path relative to www_dir, with ETag,
 * Last-Modified, conditional 304 and gzip.
 */
void
static_serve_file(Conn *conn, HttpRequest *req, const char *relpath)
{
	const MimeType *mime = static_mime_type(relpath);
	char	   *path = psprintf("%s/%s", pg_dash_www_dir, relpath);
	char	   *gz_path = psprintf("%s.gz", path);
	struct stat st;
	struct stat gz_st;
	size_t		ae_len;
	const char *ae = http_request_header(req, "Accept-Encoding", &ae_len);
	bool		rebase = pg_dash_base_path && pg_dash_base_path[0] &&
		strcmp(relpath, "index.html") == 0;
	bool		want_gzip = mime->compressible && ae != NULL &&
		http_header_has_token(ae, ae_len, "gzip") && !rebase;
	bool		have_gz;
	bool		will_gzip;
	char		etag[80];
	char		modified[64];
	size_t		inm_len;
	const char *inm;
	HeaderList	headers;
	char	   *body;
	size_t		body_len;
	bool		gzipped = false;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_FILE_SIZE)
	{
		static_not_found(conn, req);
		return;
	}
	have_gz = want_gzip && stat(gz_path, &gz_st) == 0 && S_ISREG(gz_st.st_mode) &&
		gz_st.st_mtime >= st.st_mtime;
	will_gzip = have_gz || (want_gzip && st.st_size >= STATIC_GZIP_MIN_SIZE);

	/* the compressed variant is a different representation: its own ETag */
	snprintf(etag, sizeof(etag), "\"%llx-%llx%s%s%.30s\"",
			 (unsigned long long) st.st_size,
			 (unsigned long long) st.st_mtim.tv_sec * 1000000000ULL + st.st_mtim.tv_nsec,
			 will_gzip ? "-gz" : "", rebase ? "-" : "", rebase ? pg_dash_base_path : "");
	static_http_date(st.st_mtime, modified, sizeof(modified));

	header_list_init(&headers);
	header_add(&headers, "ETag", etag);
	header_add(&headers, "Last-Modified", modified);
	header_add(&headers, "Cache-Control", "no-cache");
	if (mime->compressible)
		header_add(&headers, "Vary", "Accept-Encoding");

	inm = http_request_header(req, "If-None-Match", &inm_len);
	if (inm != NULL ? static_etag_matches(inm, inm_len, etag)
		: static_not_modified_since(req, st.st_mtime))
	{
		http_reply(conn, req, 304, NULL, &headers, NULL, 0);
		return;
	}

	if (have_gz)
	{
		body = static_read_file(gz_path, gz_st.st_size);
		body_len = gz_st.st_size;
		gzipped = body != NULL;
	}
	else
	{
		body = static_read_file(path, st.st_size);
		body_len = st.st_size;
		if (body != NULL && will_gzip)
		{
			size_t		zlen;
			char	   *z = static_gzip(body, body_len, &zlen);

			if (z != NULL)
			{
				body = z;
				body_len = zlen;
				gzipped = true;
			}
		}
	}
	if (body == NULL)
	{
		static_not_found(conn, req);
		return;
	}
	if (rebase)
		body = static_rebase_index(body, body_len, &body_len);
	if (gzipped)
		header_add(&headers, "Content-Encoding", "gzip");
	http_reply(conn, req, 200, mime->type, &headers, body, body_len);
}

/*
 * Serves the front end's document (relpath, index.html) with data the page
 * needs at once embedded as a JSON data block before </head>:
 * <script type="application/json" id="pg-dash-page">json</script>, and
 * preload links for /api/queries and /api/state.  A data
 * block is never executed, so the Content-Security-Policy still allows no
 * inline script; "<", ">" and "&" are written as \u escapes (they can only
 * occur inside JSON strings), so no text in it can end the element.  A
 * document without </head>, or no data, is served as it is (moved under
 * pg_dash.base_path like every index.html).
 */
void
static_serve_document(Conn *conn, HttpRequest *req, const char *relpath, const char *json)
{
	char	   *path = psprintf("%s/%s", pg_dash_www_dir, relpath);
	struct stat st;
	char	   *file;
	char	   *head_end;
	StringInfoData body;
	HeaderList	headers;
	size_t		ae_len;
	const char *ae = http_request_header(req, "Accept-Encoding", &ae_len);
	bool		will_gzip;
	char		etag[48];
	size_t		inm_len;
	const char *inm;
	const char *p;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_FILE_SIZE ||
		(file = static_read_file(path, st.st_size)) == NULL)
	{
		static_not_found(conn, req);
		return;
	}
	if (pg_dash_base_path && pg_dash_base_path[0])
	{
		size_t		len;

		file = static_rebase_index(file, st.st_size, &len);
		file = pnstrdup(file, len);
	}
	else
		file = pnstrdup(file, st.st_size);
	head_end = strstr(file, "</head>");
	initStringInfo(&body);
	if (head_end == NULL || json == NULL || json[0] == '\0')
		appendStringInfoString(&body, file);
	else
	{
		appendBinaryStringInfo(&body, file, head_end - file);
		appendStringInfoString(&body, "<script type=\"application/json\" id=\"pg-dash-page\">");
		for (p = json; *p; p++)
		{
			if (*p == '<')
				appendStringInfoString(&body, "\\u003c");
			else if (*p == '>')
				appendStringInfoString(&body, "\\u003e");
			else if (*p == '&')
				appendStringInfoString(&body, "\\u0026");
			else
				appendStringInfoChar(&body, *p);
		}
		appendStringInfoString(&body, "</script>\n");
		/*
		 * the two answers the front end asks for before it draws start now,
		 * while its scripts load and run (its fetch() takes the preloaded
		 * response); the base path needs no escaping (transport.c checks it)
		 */
		appendStringInfo(&body,
						 "<link rel=\"preload\" href=\"%1$s/api/queries\" as=\"fetch\" crossorigin>\n"
						 "<link rel=\"preload\" href=\"%1$s/api/state\" as=\"fetch\" crossorigin>\n",
						 pg_dash_base_path ? pg_dash_base_path : "");
		appendStringInfoString(&body, head_end);
	}

	will_gzip = ae != NULL && http_header_has_token(ae, ae_len, "gzip") && body.len >= STATIC_GZIP_MIN_SIZE;
	/* the ETag of what is sent: the document with this version of the page */
	snprintf(etag, sizeof(etag), "\"%016llx-%x%s\"",
			 (unsigned long long) hash_bytes_extended((unsigned char *) body.data, body.len, 0),
			 body.len, will_gzip ? "-gz" : "");
	header_list_init(&headers);
	header_add(&headers, "ETag", etag);
	header_add(&headers, "Cache-Control", "no-cache");
	header_add(&headers, "Vary", "Accept-Encoding");
	inm = http_request_header(req, "If-None-Match", &inm_len);
	if (inm != NULL && static_etag_matches(inm, inm_len, etag))
	{
		http_reply(conn, req, 304, NULL, &headers, NULL, 0);
		return;
	}
	if (will_gzip)
	{
		size_t		zlen;
		char	   *z = static_gzip(body.data, body.len, &zlen);

		if (z != NULL)
		{
			header_add(&headers, "Content-Encoding", "gzip");
			http_reply(conn, req, 200, static_mime_type(relpath)->type, &headers, z, zlen);
			return;
		}
	}
	http_reply(conn, req, 200, static_mime_type(relpath)->type, &headers, body.data, body.len);
}

/*
 * Serves the file a GET or HEAD request names; "/" and paths ending in "/"
 * serve index.html of that folder.
 */
void
static_serve(Conn *conn, HttpRequest *req)
{
	const char *path = req->path;
	size_t		len = strlen(path);
	char	   *relpath;

	if (!static_path_is_safe(path))
	{
		static_not_found(conn, req);
		return;
	}
	while (*path == '/')
		path++;
	len = strlen(path);
	if (len == 0 || path[len - 1] == '/')
		relpath = psprintf("%sindex.html", path);
	else
		relpath = pstrdup(path);
	static_serve_file(conn, req, relpath);
}
