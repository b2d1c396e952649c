/*
 * guc.h
 *		The pg_dash.* settings.
 */
#ifndef PG_DASH_GUC_H
#define PG_DASH_GUC_H

/* Restart-only settings (PGC_POSTMASTER). */
extern int	pg_dash_port;
extern char *pg_dash_listen_addresses;
extern char *pg_dash_database;
extern int	pg_dash_workers;
extern int	pg_dash_max_connections;

/* Settings reloaded on SIGHUP. */
extern char *pg_dash_www_dir;
extern int	pg_dash_idle_timeout;
extern int	pg_dash_max_header_size;
extern int	pg_dash_max_url_length;
extern int	pg_dash_max_body_size;
extern int	pg_dash_ws_max_message_size;
extern int	pg_dash_ws_max_queue;
extern int	pg_dash_ws_ping_interval;
extern int	pg_dash_ws_max_rows;
extern int	pg_dash_ws_max_bytes;
extern int	pg_dash_ws_max_watches;
extern int	pg_dash_ws_max_subscriptions;
extern int	pg_dash_max_downloads;
extern int	pg_dash_download_timeout;
extern char *pg_dash_role;
extern int	pg_dash_statement_timeout;
extern double pg_dash_inline_below;
extern int	pg_dash_max_rows;
extern int	pg_dash_cache_ttl;
extern int	pg_dash_cache_size;
extern bool pg_dash_allow_sql;
extern int	pg_dash_header_timeout;
extern int	pg_dash_max_connections_per_ip;
extern int	pg_dash_rate_limit_per_ip;
extern int	pg_dash_rate_limit_burst;
extern int	pg_dash_http_max_queue;

extern void guc_define(void);

#endif							/* PG_DASH_GUC_H */
